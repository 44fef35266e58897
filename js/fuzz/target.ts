// What a fuzz target is: a parser run on one input, its seeds and dictionary, and which throws it declares.

export interface FuzzTarget {
  /** Stable name: crash files, regression folders and reports use it. */
  readonly name: string;
  /** Largest input worth generating (the parser's own bound plus a little, so the bound itself is tried). */
  readonly maxInputBytes: number;
  /** Valid and near-valid inputs, built from the same encoders the tests use. */
  seeds(): Uint8Array[];
  /** Tokens of the grammar (verbs, keys, magic values) mutations may insert. */
  readonly dictionary: readonly string[];
  /**
   * Runs one input through the parser and returns a short outcome label (the refusal code, or the kind
   * of thing parsed): new labels steer the fuzzer. A target also checks the parser's promises (a reply
   * decodes, a bound holds) and throws a plain Error when one is broken.
   */
  run(input: Uint8Array): string;
  /** A thrown value the parser declares (its own error type): a refusal, not a failure. Absent: none is. */
  declared?(e: unknown): boolean;
}

/** Text of a thrown value for a failure report. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? ' @ ' + e.stack.split('\n').slice(1, 4).join(' | ') : ''}`;
  try {
    return `threw ${typeof e}: ${String(e)}`;
  } catch {
    return `threw ${typeof e}`;
  }
}
