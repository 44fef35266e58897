// Now-or-later values: in the firmware a port may answer over a channel, on Node at once; both go through `then`.

/** A value now, or a promise of it (the firmware's ports answer over channels). */
export type Later<T> = T | Promise<T>;

/** Continues with `v` now when it is here, else when it arrives; keeps synchronous chains synchronous. */
export function then<T, U>(v: Later<T>, k: (t: T) => Later<U>): Later<U> {
  return v instanceof Promise ? v.then(k) : k(v);
}
