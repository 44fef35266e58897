// Runs the real nvidia-smi with a time and output bound (node:child_process); the only file here that spawns a process.
import { execFile } from 'node:child_process';
import { BridgeError } from './errors.js';
import type { SmiRunner } from './discovery.js';
import { NVIDIA_SMI_OUTPUT_BYTES_MAX, NVIDIA_SMI_TIMEOUT_MS } from './limits.js';

export function nodeSmiRunner(binary = 'nvidia-smi'): SmiRunner {
  return (args) =>
    new Promise((resolve) => {
      execFile(binary, [...args], { timeout: NVIDIA_SMI_TIMEOUT_MS, maxBuffer: NVIDIA_SMI_OUTPUT_BYTES_MAX, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err === null) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number; signal?: string };
        if (e.code === 'ENOENT') return resolve(new BridgeError('smi-missing', `${binary} not found (no NVIDIA driver on this host? use --mock)`));
        if (e.killed || e.signal === 'SIGTERM') return resolve(new BridgeError('smi-timeout', `${binary} did not finish within ${NVIDIA_SMI_TIMEOUT_MS} ms`));
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve(new BridgeError('smi-unknown-format', `${binary} printed more than ${NVIDIA_SMI_OUTPUT_BYTES_MAX} bytes`));
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        resolve(new BridgeError('smi-failed', `${binary}: ${e.message.slice(0, 160)}`));
      });
    });
}
