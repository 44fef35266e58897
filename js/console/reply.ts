// Console reply lines (spec §3.2, §3.3, §3.6): ACKs, refusals, provider-error refusals and bounded streams.
import { ProviderError, type ProviderErrorCode } from './errors.js';
import { STREAM_LINES_MAX } from './limits.js';

/** Refusal classes; each refusal counts once in `/proc/pressure/<class>`. */
export type RefusalClass = 'busy' | 'quota' | 'cut' | 'policy';
export const REFUSAL_CLASSES: readonly RefusalClass[] = ['busy', 'quota', 'cut', 'policy'];

/** Closes a stream. */
export const END_LINE = 'END';
/** The bare line PING adds after its ACK; clients skip it. */
export const PONG_LINE = 'PONG';

export function okLine(label: string, detail = ''): string {
  return detail === '' ? `OK ${label}` : `OK ${label} ${detail}`;
}

export function errLine(label: string, detail = ''): string {
  return detail === '' ? `ERR ${label}` : `ERR ${label} ${detail}`;
}

/** `ERR <L> reason=<class>[ <tokens>]`. */
export function refusalLine(label: string, cls: RefusalClass, tokens = ''): string {
  return errLine(label, tokens === '' ? `reason=${cls}` : `reason=${cls} ${tokens}`);
}

/** What a provider error becomes on the wire: class, detail tag (null: none) and error text (null: none). */
export interface ProviderRefusal {
  cls: RefusalClass;
  tag: string | null;
  text: string | null;
}

/** The §3.6 table, plus the two ticket rows and the §3.3 root-unreachable refusal. */
export function providerRefusal(code: ProviderErrorCode, command = ''): ProviderRefusal {
  switch (code) {
    case 'unsupported':
      return { cls: 'policy', tag: 'unsupported', text: `unsupported command: ${command}` };
    case 'attach-timeout':
      return { cls: 'busy', tag: 'attach-timeout', text: 'attach handshake timed out' };
    case 'invalid-path':
      return { cls: 'policy', tag: 'invalid-path', text: 'invalid path' };
    case 'denied':
      return { cls: 'policy', tag: 'denied', text: 'EPERM' };
    case 'buffer-full':
      return { cls: 'quota', tag: 'buffer-full', text: 'buffer full' };
    case 'invalid-payload':
      return { cls: 'policy', tag: 'invalid-payload', text: 'invalid payload' };
    case 'busy':
      return { cls: 'busy', tag: 'busy', text: 'EBUSY' };
    case 'root-unreachable':
      return { cls: 'cut', tag: 'root-unreachable', text: null };
    case 'scope-denied':
      return { cls: 'policy', tag: null, text: 'EPERM' };
    case 'scope-quota':
      return { cls: 'quota', tag: null, text: 'ELIMIT' };
    case 'internal':
      return { cls: 'busy', tag: 'internal', text: 'internal error' };
  }
}

/** `ERR <L> reason=<class> detail=<tag>[ path=<p>] error=<text>` (parts a row lacks are left out). */
export function providerRefusalLine(label: string, err: ProviderError | ProviderErrorCode, path = ''): string {
  const e = typeof err === 'string' ? new ProviderError(err) : err;
  const r = providerRefusal(e.code, e.command);
  const tokens: string[] = [];
  if (r.tag !== null) tokens.push(`detail=${r.tag}`);
  if (path !== '' && e.code !== 'root-unreachable') tokens.push(`path=${path}`);
  if (r.text !== null) tokens.push(`error=${r.text}`);
  return refusalLine(label, r.cls, tokens.join(' '));
}

/**
 * A whole stream: ACK, content lines, END. Over STREAM_LINES_MAX lines it is refused instead
 * (`reason=quota detail=buffer-full`), never cut short silently.
 */
export function streamReply(label: string, ackDetail: string, lines: readonly string[]): string[] {
  if (lines.length > STREAM_LINES_MAX) return [refusalLine(label, 'quota', 'detail=buffer-full')];
  return [okLine(label, ackDetail), ...lines, END_LINE];
}

/** The refusal class of an `ERR` line (its `reason=` is a class), or null; used to count pressure. */
export function refusalClassOf(line: string): RefusalClass | null {
  const m = /^ERR [A-Z][A-Z0-9_-]* reason=([a-z]+)(?: |$)/.exec(line);
  if (m === null) return null;
  return (REFUSAL_CLASSES as readonly string[]).includes(m[1]) ? (m[1] as RefusalClass) : null;
}
