// The retained raw writes of a control file (spec §7 keeps each write before parsing): bounded, oldest bytes dropped first.
import { CONTROL_RETAINED_BYTES_MAX } from './limits.js';

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
