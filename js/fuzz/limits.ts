// Bounds of the mutation fuzzer: input sizes, corpus, failures kept, per-input time, test budgets.

/** Largest input a mutation may produce, unless a target asks for less (its parser's own bound decides). */
export const FUZZ_INPUT_BYTES_MAX = 4096;
/** Inputs kept for further mutation: the seeds plus those that reached an outcome not seen before. */
export const FUZZ_CORPUS_ENTRIES_MAX = 512;
/** Distinct outcome labels remembered per target (feedback without coverage instrumentation). */
export const FUZZ_OUTCOMES_MAX = 4096;
/** Characters of an outcome label kept; longer labels are cut, so a parser's message cannot grow the table. */
export const FUZZ_OUTCOME_CHARS_MAX = 64;
/** Mutations stacked on one input (1..this). */
export const FUZZ_MUTATIONS_PER_INPUT_MAX = 8;
/** Dictionary tokens a target may declare. */
export const FUZZ_DICTIONARY_TOKENS_MAX = 256;
/** Failures kept per target per run; more are counted, not kept. */
export const FUZZ_FAILURES_KEPT_MAX = 16;
/** Characters of a failure's message kept. */
export const FUZZ_FAILURE_TEXT_CHARS_MAX = 300;
/** One input that runs longer than this is a hang (measured where the driver has a clock). */
export const FUZZ_INPUT_MS_MAX = 2_000;
/** Inputs per target in the short run every test suite does (Node and quickjs-ng alike). */
export const FUZZ_SMOKE_INPUTS = 300;
/** Inputs between time checks and progress reports in a long run. */
export const FUZZ_BATCH_INPUTS = 256;
/** CPU time one pump turn of the firmware fuzz task spends before it yields (well under its cpu_slice_ms). */
export const FUZZ_FIRMWARE_TURN_MS = 100;
/** Bytes of a failing input the firmware task logs as hex (the log line bound cuts the rest). */
export const FUZZ_FIRMWARE_INPUT_LOG_BYTES_MAX = 96;
/** Rounds (every target once) the firmware task grows its corpus before freezing it and watching the arena. */
export const FUZZ_FIRMWARE_WARMUP_ROUNDS = 5;
/** How much the firmware task's arena may differ from its level just after the corpus froze, at any later round (GC sawtooth, atom tables). */
export const FUZZ_FIRMWARE_ARENA_SLACK_BYTES = 256 * 1024;
