// The console's info verbs (bi, caps, mem, netstats): what root-task can say about the hive it runs.
import type { Caps, TaskInfo } from '../caps/index.js';
import type { InfoProviders } from './policy/index.js';

export interface HiveFacts {
  imageId: string;
  profile: string;
  tcpPort: () => number;
  tcpSessions: () => number;
  /** TCP connections still in AUTH (their own pool, apart from console_sessions). */
  tcpAuthPending: () => number;
  ninepPort: () => number;
}

const kib = (n: number): string => `${Math.round(n / 1024)}KiB`;

export function infoProviders(caps: Caps, facts: HiveFacts): InfoProviders {
  const tasks = (): TaskInfo[] => caps.task.list();
  return {
    bi: () => [
      `[bi] image=${facts.imageId} profile=${facts.profile}`,
      `[bi] uptime_ms=${Math.round(caps.timer.nowMs())} tasks=${tasks().length}`,
    ],
    caps: () => tasks().map((t) => `[caps] ${t.label} task=${t.task} state=${t.state}`),
    mem: () => {
      const all = tasks();
      const used = all.reduce((s, t) => s + t.arenaUsedBytes, 0);
      const quota = all.reduce((s, t) => s + t.arenaBytes, 0);
      return [
        ...all.map((t) => `[mem] ${t.label} used=${kib(t.arenaUsedBytes)} peak=${kib(t.arenaPeakBytes)} quota=${kib(t.arenaBytes)}`),
        `[mem] total used=${kib(used)} quota=${kib(quota)}`,
      ];
    },
    netstats: () => [
      `[netstats] console_port=${facts.tcpPort()} console_sessions=${facts.tcpSessions()} console_auth_pending=${facts.tcpAuthPending()} secure9p_port=${facts.ninepPort()}`,
    ],
  };
}
