// Public surface of js/tickets: claims layout, minting/verification, and the attach-time checks.
export * from './claims.js';
export * from './errors.js';
export * from './limits.js';
export * from './token.js';
export * from './attach.js';
