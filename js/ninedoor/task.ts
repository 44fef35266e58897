// The NineDoor firmware task: serves the namespace over its channels (root-task, linked workers) and, when enabled, TCP.
//
// Its parts, one job each: root-control.ts (root-task's control text), channel-sessions.ts (routed
// 9P sessions), tcp-sessions.ts (the 9P TCP listener), task-reload.ts (the hot-reload handoff).
import type { Caps, TaskConfig, TaskHandle } from '../caps/index.js';
import type { TicketSecrets } from '../tickets/index.js';
import { channelSessions } from './channel-sessions.js';
import { NineDoor } from './index.js';
import { RemotePolicy } from './remote.js';
import { handleControlText, ROOT_TASK_EP } from './root-control.js';
import { restoreDoor, snapshotDoor } from './task-reload.js';
import { tcpSessions } from './tcp-sessions.js';

export { NINEP_TCP_SESSIONS_MAX } from './tcp-sessions.js';

/** What root-task hands NineDoor at spawn. */
export interface NineDoorTaskArgs {
  secrets: TicketSecrets;
  allow_ticketless_queen: boolean;
  mock_gpus?: boolean;
  boot_lines?: string[];
  /** Secure9P TCP listener (spec §0: dev images); absent or port 0 = none. */
  ninep?: { host: string; port: number } | null;
  trace?: boolean;
}

export default function main(caps: Caps, config: TaskConfig): TaskHandle {
  const args = config.args as NineDoorTaskArgs;
  const policy = new RemotePolicy({
    send: (json) => caps.channel.send(ROOT_TASK_EP, json),
    setTimeout: (fn, ms) => caps.timer.setTimeout(fn, ms),
    clearTimeout: (id) => caps.timer.clear(id),
  });
  const door = new NineDoor({
    policy,
    log: (line) => caps.log.write(line),
    nowMs: () => caps.timer.wallMs(),
    attach: { secrets: args.secrets, allowTicketlessQueen: args.allow_ticketless_queen },
    mockGpus: args.mock_gpus ?? false,
    bootLines: args.boot_lines,
    trace: args.trace ?? false,
  });

  const channel = channelSessions(caps, door);
  caps.channel.onLink((ep, _peer, label) => {
    if (args.trace) caps.log.write(`linked ${label} on endpoint ${ep}`);
    channel.relinked(ep);
  });
  caps.channel.onMessage((ep, msg) => {
    if (typeof msg === 'string') handleControlText(caps, door, policy, ep, msg);
    else channel.route(ep, msg);
  });

  const tcp = tcpSessions(caps, door);
  let tcpPort = 0;
  if (args.ninep && args.ninep.port > 0) {
    tcpPort = tcp.listen(args.ninep.host, args.ninep.port);
    caps.log.write(`secure9p ready port=${tcpPort}`);
  }
  caps.channel.send(ROOT_TASK_EP, JSON.stringify({ op: 'ready', ninep_port: tcpPort }));

  return {
    snapshot: () => snapshotDoor(door, channel, tcp),
    restore: (state) => restoreDoor(caps, door, channel, tcp, state),
  };
}
