// The policy's hands on tasks (TaskPort): spawns workers linked to NineDoor and kills tasks, through the supervisor.
import type { BootConfig } from './boot-config.js';
import { TaskSpawnError, type TaskPort } from './policy/index.js';
import type { Supervisor } from './supervisor.js';

/** The manifest task names of the worker kinds, when root-task's config does not name them. */
const WORKER_TASK_DEFAULTS = { heartbeat: 'worker-heart', gpu: 'worker-gpu' } as const;

/** `ninedoorId` 0: no NineDoor, workers are not linked. */
export function workerTaskPort(supervisor: Supervisor, boot: BootConfig, ninedoorId: number): TaskPort {
  const workerTask = {
    heartbeat: boot.cfg.worker_tasks?.heartbeat ?? WORKER_TASK_DEFAULTS.heartbeat,
    gpu: boot.cfg.worker_tasks?.gpu ?? WORKER_TASK_DEFAULTS.gpu,
  };
  return {
    spawnWorker(kind, label, wargs) {
      try {
        // Linked to NineDoor: the worker's endpoint 1 is its own Secure9P channel, not through root-task.
        // Quiet: the policy writes the worker's `spawned ...` line itself.
        const rec = supervisor.spawn({ task: workerTask[kind], label, args: wargs, link: ninedoorId || undefined }, true);
        return rec.id;
      } catch (e) {
        const code = (e as { code?: string }).code;
        return new TaskSpawnError(code === 'Busy' ? 'Busy' : code === 'NotFound' ? 'NotFound' : 'Io', (e as Error).message);
      }
    },
    killTask(id) {
      supervisor.kill(id, 'killed by policy', true);
    },
  };
}
