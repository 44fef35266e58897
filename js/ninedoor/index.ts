// Public surface of js/ninedoor: the NineDoor server, the policy interface root-task implements, and the pieces it is built from.
export * from './limits.js';
export * from './gates.js';
export * from './state.js';
export * from './policy.js';
export * from './shard.js';
export * from './ring.js';
export * from './control.js';
export * from './store.js';
export * from './nodes.js';
export * from './access.js';
export * from './binds.js';
export * from './ingest.js';
export * from './snapshot.js';
export * from './bridge.js';
export * from './gpu.js';
export * from './nssession.js';
export * from './server.js';
