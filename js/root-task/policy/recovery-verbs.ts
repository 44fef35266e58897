// UART recovery verbs (js/console extraVerbs): tasks, restart, killtask, lastlog — what an operator needs when the network is gone.
//
// `kill` is a spec §3.1 verb (KILL <worker_id> through /queen/ctl) and extra verbs never shadow one,
// so killing a task by id is `killtask`. None of these needs an ATTACH: on the UART physical access
// is the credential (spec §2), and they must work while NineDoor or the network task is down.
import { NineError } from '../../secure9p/errors.js';
import type { Answer, ExtraVerbHandler, ExtraVerbs } from '../../console/backend.js';
import { ProviderError } from '../../console/errors.js';
import type { Later } from './answer.js';
import type { HiveControl } from './hive-control.js';
import { LASTLOG_LINES_DEFAULT, LASTLOG_LINES_MAX, TASK_LINES_MAX } from './limits.js';
import type { RestartPort, TaskLister, TaskPort } from './ports.js';
import { providerErrorOf } from './console-backend.js';

export const RECOVERY_VERBS = ['tasks', 'restart', 'killtask', 'lastlog'] as const;
/** Why `killtask` ended a task that is not a worker; logged as `killed task <id> <label>: <why>`. */
export const UART_KILL_REASON = 'killed from the UART console';

export interface RecoveryOptions {
  hive: HiveControl;
  /** The firmware task table (TaskCap.list). */
  tasks: TaskLister;
  /** For tasks that are not workers; workers go through HiveControl so their records and leases go too. */
  taskPort: TaskPort;
  /** The network console side (and anything else restartable); absent → `restart` answers `unsupported`. */
  restart?: RestartPort;
  /** Newest hive log lines, oldest first; default HiveControl.recentLog(). */
  logLines?: () => Later<readonly string[]>;
  /** Task ids `killtask` refuses (root-task itself). */
  protectedTaskIds?: readonly number[];
}

const DECIMAL = /^[0-9]{1,10}$/;

function tasks(o: RecoveryOptions): ExtraVerbHandler {
  return (rest) => {
    if (rest !== '') return new ProviderError('invalid-payload', 'tasks takes no argument');
    const list = o.tasks.list().slice(0, TASK_LINES_MAX);
    const lines = list.map((t) => {
      const worker = o.hive.workerOfTask(t.id);
      return `[tasks] id=${t.id} label=${t.label} task=${t.task} state=${t.state} arena_used=${t.arenaUsedBytes} arena_bytes=${t.arenaBytes}` +
        ` arena_peak=${t.arenaPeakBytes} cpu_ms=${Math.round(t.cpuMs)}${t.fault !== null ? ` fault=${t.fault}` : ''}${worker !== null ? ` worker=${worker}` : ''}`;
    });
    return [...lines, `[tasks] total=${list.length} workers=${o.hive.workerList().length}`];
  };
}

function restart(o: RecoveryOptions): ExtraVerbHandler {
  return (rest): Answer<string[]> => {
    const port = o.restart;
    if (port === undefined) return new ProviderError('unsupported', 'no restartable tasks', 'restart');
    const name = rest.trim();
    if (name === '') return [`[restart] restartable: ${port.names().join(' ')}`];
    if (!port.names().includes(name)) return new ProviderError('invalid-path', `not restartable: ${name}`);
    const done = (r: string | NineError): string[] | ProviderError => {
      if (r instanceof NineError) return providerErrorOf(r);
      o.hive.log(`restarted ${name} from the UART console`);
      return [`[restart] ${r}`];
    };
    const r = port.restart(name);
    return r instanceof Promise ? r.then(done) : done(r);
  };
}

function killtask(o: RecoveryOptions): ExtraVerbHandler {
  return (rest) => {
    if (!DECIMAL.test(rest)) return new ProviderError('invalid-payload', 'killtask <task-id>');
    const id = Number(rest);
    if (o.protectedTaskIds?.includes(id)) return new ProviderError('denied', `task ${id} is protected`);
    const task = o.tasks.list().find((t) => t.id === id);
    const worker = o.hive.workerOfTask(id);
    if (worker !== null) {
      // A worker goes the way KILL takes it: lease released, record and sessions revoked, task killed.
      o.hive.revokeWorker(worker, UART_KILL_REASON);
      return [`[killtask] id=${id} worker=${worker}`];
    }
    if (task === undefined) return new ProviderError('invalid-path', `no task ${id}`);
    try {
      o.taskPort.killTask(id);
    } catch (e) {
      return new ProviderError('busy', String(e));
    }
    o.hive.log(`killed task ${id} ${task.label}: ${UART_KILL_REASON}`);
    return [`[killtask] id=${id} label=${task.label}`];
  };
}

function lastlog(o: RecoveryOptions): ExtraVerbHandler {
  return (rest) => {
    let n = LASTLOG_LINES_DEFAULT;
    if (rest !== '') {
      if (!DECIMAL.test(rest)) return new ProviderError('invalid-payload', 'lastlog [n]');
      n = Math.min(LASTLOG_LINES_MAX, Number(rest));
    }
    const show = (lines: readonly string[]): string[] => (n === 0 ? [] : lines.slice(-n).map((l) => `[log] ${l}`));
    const src = o.logLines ? o.logLines() : o.hive.recentLog();
    return src instanceof Promise ? src.then(show) : show(src);
  };
}

/** The UART's extraVerbs map. */
export function recoveryVerbs(o: RecoveryOptions): ExtraVerbs {
  return new Map<string, ExtraVerbHandler>([
    ['tasks', tasks(o)],
    ['restart', restart(o)],
    ['killtask', killtask(o)],
    ['lastlog', lastlog(o)],
  ]);
}
