// The in-flight tag window (spec §5.4): at most TAGS_IN_FLIGHT_MAX requests outstanding, each tag once.
import { Errno, NineError } from './errors.js';
import { TAGS_IN_FLIGHT_MAX } from './limits.js';

export class TagWindow {
  /**
   * tag → tags of Tflush requests waiting for this tag's reply (answered right after it); null
   * until a flush waits, so admitting a request makes no array (nearly none is ever flushed).
   */
  private readonly inFlight = new Map<number, number[] | null>();

  admit(tag: number): NineError | null {
    if (this.inFlight.has(tag)) return new NineError('Invalid', 'tag already in use');
    // EAGAIN, not EBUSY (spec §0): the client should retry once a reply frees a slot.
    if (this.inFlight.size >= TAGS_IN_FLIGHT_MAX) return new NineError('Busy', 'tag window exceeded', Errno.EAGAIN);
    this.inFlight.set(tag, null);
    return null;
  }

  has(tag: number): boolean {
    return this.inFlight.has(tag);
  }

  /** Queues a flush to be answered after `oldtag`'s reply; false when oldtag is not in flight. */
  waitFor(oldtag: number, flushTag: number): boolean {
    const waiters = this.inFlight.get(oldtag);
    if (waiters === undefined) return false;
    if (waiters === null) this.inFlight.set(oldtag, [flushTag]);
    else waiters.push(flushTag);
    return true;
  }

  /** Frees a tag; returns the flush tags that were waiting on it (each still in flight), or null for none. */
  complete(tag: number): number[] | null {
    const waiters = this.inFlight.get(tag) ?? null;
    this.inFlight.delete(tag);
    return waiters;
  }

  clear(): void {
    this.inFlight.clear();
  }

  size(): number {
    return this.inFlight.size;
  }
}
