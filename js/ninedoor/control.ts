// Control files (/queen/ctl, /queen/lifecycle/ctl): keep the raw write, then hand its text to root-task policy through an interface.
import { utf8Decode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Answer, OpenFile, Principal } from '../secure9p/fileserver.js';
import { CONTROL_RETAINED_BYTES_MAX } from './limits.js';

/**
 * What NineDoor needs from root-task policy. The policy parses and applies (spec §7, §9) and
 * answers with a refusal value or nothing; it may answer later (it lives in another task).
 */
export interface ControlPolicy {
  queenCtl(text: string, who: Principal): Answer<void>;
  lifecycleCtl(text: string, who: Principal): Answer<void>;
}

export type ControlKind = 'queen' | 'lifecycle';

/** The retained raw writes of one control file, bounded, oldest bytes dropped first. */
export class ControlLog {
  private data = new Uint8Array(0);

  append(b: Uint8Array): void {
    const keep = Math.min(this.data.length, Math.max(0, CONTROL_RETAINED_BYTES_MAX - b.length));
    const tail = b.length > CONTROL_RETAINED_BYTES_MAX ? b.subarray(b.length - CONTROL_RETAINED_BYTES_MAX) : b;
    const next = new Uint8Array(keep + tail.length);
    next.set(this.data.subarray(this.data.length - keep));
    next.set(tail, keep);
    this.data = next;
  }

  bytes(): Uint8Array {
    return this.data;
  }
}

/** An open control file: writes go to the log and then to the policy; reads show the log. */
export function openControl(kind: ControlKind, log: ControlLog, policy: ControlPolicy, who: Principal): OpenFile {
  return {
    read(offset, count) {
      const all = log.bytes();
      const start = offset > BigInt(all.length) ? all.length : Number(offset);
      return all.slice(start, start + count);
    },
    write(_offset, data) {
      const text = utf8Decode(data);
      if (text === null) return new NineError('Invalid', 'control write is not UTF-8');
      // Spec §7: the raw write is appended before parsing, so a refused line is still on record.
      log.append(data);
      const answer = kind === 'queen' ? policy.queenCtl(text, who) : policy.lifecycleCtl(text, who);
      const done = (r: void | NineError): number | NineError => (r instanceof NineError ? r : data.length);
      return answer instanceof Promise ? answer.then(done) : done(answer);
    },
  };
}
