// Public surface of root-task policy: HiveControl (NineDoor's HivePolicy), the console backends, UART recovery verbs, and the ports they drive.
export * from './answer.js';
export * from './limits.js';
export * from './ports.js';
export * from './ctl-parse.js';
export * from './lifecycle.js';
export * from './leases.js';
export * from './hive-control.js';
export * from './console-backend.js';
export * from './recovery-verbs.js';
