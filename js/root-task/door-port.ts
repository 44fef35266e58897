// NineDoorPort over the NineDoor channel: root-task's policy drives the NineDoor task with ordered door commands.
import type { NineDoorLink } from '../ninedoor/root-side.js';
import type { NineDoorPort } from './policy/ports.js';

export function linkDoorPort(link: NineDoorLink): NineDoorPort {
  return {
    addWorker: (id, kind, budget) => link.door('addWorker', id, kind, budget),
    removeWorker: (id, reason) => link.door('removeWorker', id, reason ?? null),
    setLifecycle: (f) => link.door('state.setLifecycle', f),
    setRoot: (f) => link.door('state.setRoot', f),
    setPressure: (f) => link.door('state.setPressure', f),
    log: (line) => link.door('log', line),
    audit: (r) => link.door('audit', r),
    // Only NineDoor knows the GPUs, so this one waits for its answer.
    setLease: (gpuId, workerId) => link.doorCall('setLease', gpuId, workerId),
    appendGpu: (gpuId, file, line) => link.door('appendGpu', gpuId, file, line),
  };
}
