// The in-flight tag window (spec §5.4): at most TAGS_IN_FLIGHT_MAX requests outstanding, each tag once.
import { Etaginuse, Etagwindow, refusal, type NineError } from './errors.js';
import { TAGS_IN_FLIGHT_MAX } from './limits.js';

export class TagWindow {
  /**
   * tag → tags of Tflush requests waiting for this tag's reply (answered right after it); null
   * until a flush waits, so admitting a request makes no array (nearly none is ever flushed).
   */
  private readonly inFlight = new Map<number, number[] | null>();

  /**
   * Entries in inFlight, counted here: Map's size is a native getter call inside quickjs-ng. Read
   * by the session to skip check() when nothing is held; only this class changes it.
   */
  held = 0;

  /**
   * Whether a new request may use `tag`: null, or the refusal. The session holds the tag (hold())
   * only when the answer comes later; one answered at once never needs a slot.
   */
  check(tag: number): NineError | null {
    if (this.held === 0) return null;
    if (this.inFlight.has(tag)) return refusal(Etaginuse);
    if (this.held >= TAGS_IN_FLIGHT_MAX) return refusal(Etagwindow);
    return null;
  }

  /** Marks a checked tag in flight until complete(). */
  hold(tag: number): void {
    if (!this.inFlight.has(tag)) this.held++;
    this.inFlight.set(tag, null);
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
    const waiters = this.inFlight.get(tag);
    if (waiters === undefined) return null;
    this.inFlight.delete(tag);
    this.held--;
    return waiters;
  }

  clear(): void {
    this.inFlight.clear();
    this.held = 0;
  }

  size(): number {
    return this.held;
  }
}
