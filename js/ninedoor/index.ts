// Public surface of js/ninedoor so far: sharding, telemetry rings and control-file hand-off to root-task policy.
export * from './limits.js';
export * from './shard.js';
export * from './ring.js';
export * from './control.js';
