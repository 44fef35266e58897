// The per-session inbound queue (spec §15): lines wait here while a command is in flight; 8 at most, oldest dropped.
import { INBOUND_QUEUE_LINES_MAX } from './limits.js';

export class InboundQueue<T> {
  private readonly items: T[] = [];
  /** Items ever queued. */
  queued = 0;
  /** Items dropped because the queue was full (the backpressure counter). */
  dropped = 0;

  constructor(readonly capacity: number = INBOUND_QUEUE_LINES_MAX) {}

  /** Queues `item`; returns the item it dropped to make room, or undefined. */
  push(item: T): T | undefined {
    this.queued++;
    let gone: T | undefined;
    if (this.items.length >= this.capacity) {
      gone = this.items.shift();
      this.dropped++;
    }
    this.items.push(item);
    return gone;
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  get length(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
  }
}
