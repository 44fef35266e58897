// NineDoor's end of root-task's control text on endpoint 0: replies to policy questions and door commands (remote.ts holds both protocols).
import type { Caps } from '../caps/index.js';
import { applyDoorCommand, type RemotePolicy, type ReplyMessage } from './remote.js';
import type { NineDoor } from './server.js';

/** The endpoint root-task holds: the only one whose text is a control message. */
export const ROOT_TASK_EP = 0;

/** One control text from `ep`: refused unless root-task sent it, then a policy reply or a door command. */
export function handleControlText(caps: Caps, door: NineDoor, policy: RemotePolicy, ep: number, msg: string): void {
  // Only root-task speaks the policy protocol; a worker's text is refused.
  if (ep !== ROOT_TASK_EP) return caps.log.write(`control text from endpoint ${ep} ignored`);
  let m: { op?: string; method?: unknown; args?: unknown; id?: unknown };
  try {
    m = JSON.parse(msg) as typeof m;
  } catch {
    return caps.log.write('control message from root-task is not JSON: ignored');
  }
  if (m.op === 'reply') policy.onReply(m as unknown as ReplyMessage);
  else if (m.op === 'door') {
    const err = applyDoorCommand(door, m.method, m.args);
    // A command with an id wants its answer (setLease: only NineDoor knows the GPUs).
    if (typeof m.id === 'number') caps.channel.send(ROOT_TASK_EP, JSON.stringify({ op: 'door-reply', id: m.id, error: err }));
    else if (err) caps.log.write(`door command ${String(m.method)} refused: ${err.code}: ${err.message}`);
  } else caps.log.write(`control op ${JSON.stringify(m.op)} from root-task ignored`);
}
