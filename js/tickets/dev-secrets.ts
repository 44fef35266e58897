// The spec §8.3 reference dev ticket secrets, one per role: the one copy mocks, tests and host tools take (the dev boards' manifests carry the same, checked by host/node/limits.test).
import type { TicketRole } from './claims.js';

/** Dev and test hives only: a release image's manifest names its own secrets. */
export const DEV_TICKET_SECRETS: Readonly<Record<TicketRole, string>> = {
  queen: 'bootstrap',
  'worker-heartbeat': 'worker',
  'worker-gpu': 'worker-gpu',
  'worker-bus': 'worker-bus',
  'worker-lora': 'worker-lora',
};
