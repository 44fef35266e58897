// The mutation fuzzer: seeds, mutations, outcome feedback and the target contract, deterministic from a seed.
import { utf8Encode } from '../bytes/utf8.js';
import {
  FUZZ_CORPUS_ENTRIES_MAX,
  FUZZ_DICTIONARY_TOKENS_MAX,
  FUZZ_FAILURE_TEXT_CHARS_MAX,
  FUZZ_FAILURES_KEPT_MAX,
  FUZZ_INPUT_BYTES_MAX,
  FUZZ_INPUT_MS_MAX,
  FUZZ_MUTATIONS_PER_INPUT_MAX,
  FUZZ_OUTCOME_CHARS_MAX,
  FUZZ_OUTCOMES_MAX,
} from './limits.js';
import { mutateOnce, type MutateSource } from './mutate.js';
import { fnv1aHex, Prng } from './prng.js';
import { describeThrown, type FuzzTarget } from './target.js';

export type FailureKind = 'crash' | 'hang';

export interface FuzzFailure {
  kind: FailureKind;
  target: string;
  /** fnv1a of the input: the crash file's and regression's default name. */
  hash: string;
  input: Uint8Array;
  message: string;
}

export interface FuzzStats {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  corpus: number;
  outcomes: number;
}

export interface FuzzerOptions {
  /** A monotonic clock in ms; without one, hangs are left to the driver's watchdog (or the CPU slice). */
  nowMs?: () => number;
  /** Called with each input before it runs (the Node driver copies it where its watchdog can read it). */
  beforeInput?: (input: Uint8Array) => void;
}

/** Runs one input under the contract: null when it held, else what broke it. */
export function checkInput(target: FuzzTarget, input: Uint8Array, nowMs?: () => number): { failure: FuzzFailure | null; outcome: string } {
  const t0 = nowMs ? nowMs() : 0;
  let outcome: string;
  try {
    outcome = target.run(input);
  } catch (e) {
    if (target.declared && target.declared(e)) outcome = 'declared-throw';
    else return { failure: failure('crash', target, input, describeThrown(e)), outcome: 'crash' };
  }
  if (nowMs) {
    const ms = nowMs() - t0;
    if (ms > FUZZ_INPUT_MS_MAX) return { failure: failure('hang', target, input, `one input ran ${Math.round(ms)} ms (bound ${FUZZ_INPUT_MS_MAX} ms)`), outcome: 'hang' };
  }
  return { failure: null, outcome };
}

function failure(kind: FailureKind, target: FuzzTarget, input: Uint8Array, message: string): FuzzFailure {
  return { kind, target: target.name, hash: fnv1aHex(input), input: input.slice(), message: message.slice(0, FUZZ_FAILURE_TEXT_CHARS_MAX) };
}

export class Fuzzer {
  readonly failures: FuzzFailure[] = [];
  private readonly rng: Prng;
  private readonly corpus: Uint8Array[] = [];
  private readonly outcomes = new Set<string>();
  private readonly src: MutateSource;
  private readonly maxBytes: number;
  private inputs = 0;
  private crashes = 0;
  private hangs = 0;
  private seeded = false;
  private frozen = false;

  constructor(readonly target: FuzzTarget, seed: number, private readonly opts: FuzzerOptions = {}) {
    this.rng = new Prng(seed);
    this.maxBytes = Math.min(target.maxInputBytes, FUZZ_INPUT_BYTES_MAX);
    const dictionary = target.dictionary.slice(0, FUZZ_DICTIONARY_TOKENS_MAX).map((t) => utf8Encode(t));
    this.src = { corpus: this.corpus, dictionary };
  }

  stats(): FuzzStats {
    return { target: this.target.name, inputs: this.inputs, crashes: this.crashes, hangs: this.hangs, corpus: this.corpus.length, outcomes: this.outcomes.size };
  }

  /**
   * Stops adding to the corpus and outcome table: from here on the fuzzer itself holds no more memory,
   * so any growth of the task's arena is the targets' (the firmware run's flatness check).
   */
  freeze(): void {
    this.frozen = true;
  }

  /** Runs one given input (a seed, a regression) and keeps it when it reached a new outcome. */
  runInput(input: Uint8Array): FuzzFailure | null {
    this.opts.beforeInput?.(input);
    this.inputs++;
    const { failure: f, outcome } = checkInput(this.target, input, this.opts.nowMs);
    if (f) {
      if (f.kind === 'crash') this.crashes++;
      else this.hangs++;
      // One kept failure per message: the same bug found a thousand times is one report.
      if (this.failures.length < FUZZ_FAILURES_KEPT_MAX && !this.failures.some((x) => x.message === f.message)) this.failures.push(f);
      return f;
    }
    const label = outcome.slice(0, FUZZ_OUTCOME_CHARS_MAX);
    if (!this.frozen && !this.outcomes.has(label) && this.outcomes.size < FUZZ_OUTCOMES_MAX) {
      this.outcomes.add(label);
      if (this.corpus.length < FUZZ_CORPUS_ENTRIES_MAX) this.corpus.push(input);
      else this.corpus[this.rng.below(this.corpus.length)] = input;
    }
    return null;
  }

  /** Runs `n` inputs: the seeds first (once), then mutations of the corpus. */
  run(n: number): void {
    let left = n;
    if (!this.seeded) {
      this.seeded = true;
      for (const s of this.target.seeds()) {
        if (left-- <= 0) return;
        const seed = s.length > this.maxBytes ? s.slice(0, this.maxBytes) : s;
        this.runInput(seed);
        if (!this.frozen && this.corpus.length < FUZZ_CORPUS_ENTRIES_MAX && !this.corpus.includes(seed)) this.corpus.push(seed);
      }
    }
    for (; left > 0; left--) this.runInput(this.next());
  }

  private next(): Uint8Array {
    let a = this.corpus.length > 0 ? this.rng.pick(this.corpus) : new Uint8Array(0);
    const k = 1 + this.rng.below(FUZZ_MUTATIONS_PER_INPUT_MAX);
    for (let i = 0; i < k; i++) a = mutateOnce(this.rng, a, this.src, this.maxBytes);
    return a;
  }
}
