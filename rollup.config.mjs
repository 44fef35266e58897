// Rollup: one self-contained ES module bundle per task (root-task, workers) for cohc to compile.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';

// Keep in sync with boards/*/manifest.json task names: the bundle is <task>.js.
export const TASK_BUNDLES = {
  'root-task': 'js/root-task/main.ts',
  ninedoor: 'js/ninedoor/task.ts',
  'net-console': 'js/root-task/net-console.ts',
  'worker-heart': 'js/workers/heart/main.ts',
  'worker-gpu': 'js/workers/gpu/main.ts',
  // Every js/ testkit suite in one task, so the same tests prove the same code inside quickjs-ng.
  'js-tests': 'build/gen/firmware-tests.ts',
  // Every js/ fuzz target in one task: the mutation fuzzer inside quickjs-ng, arena use logged per round.
  'js-fuzz': 'js/fuzz/firmware-main.ts',
};

export default Object.entries(TASK_BUNDLES).map(([task, input]) => ({
  input,
  output: { file: `build/bundles/${task}.js`, format: 'es', inlineDynamicImports: true },
  plugins: [
    nodeResolve(),
    typescript({
      tsconfig: 'tsconfig.js.json',
      noEmit: false,
      outDir: 'build/bundles',
      declaration: false,
      include: ['js/**/*.ts', 'build/gen/*.ts'],
      // Bundled for rollup, not for Node: ESM in, ESM out, resolved like a bundler.
      compilerOptions: { module: 'esnext', moduleResolution: 'bundler' },
    }),
  ],
  onwarn(warning, warn) {
    // A bundle that silently lost an import would fail only at run time inside the firmware.
    if (warning.code === 'UNRESOLVED_IMPORT' || warning.code === 'MISSING_EXPORT') throw new Error(warning.message);
    warn(warning);
  },
}));
