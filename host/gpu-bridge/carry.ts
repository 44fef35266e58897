// Reads the host-owned files (ctl, lease, status) the hive holds for GPUs about to be republished, so a publish never wipes a live lease.
import { BridgeError } from './errors.js';
import type { ConsoleLink } from './link.js';
import type { CarriedFiles } from './snapshot-build.js';

/**
 * For each id the hive already has, its current ctl/lease/status text. A GPU the hive does not
 * have is left out (it starts fresh). A status file too long for one console stream (> 64 lines,
 * refused buffer-full) is carried as empty: losing old status lines beats wiping the lease.
 */
export async function readCarried(link: ConsoleLink, ids: readonly string[], log: (l: string) => void): Promise<Map<string, CarriedFiles> | BridgeError> {
  const out = new Map<string, CarriedFiles>();
  for (const id of ids) {
    const rs = await Promise.all(['ctl', 'lease', 'status'].map((f) => link.request(`CAT /gpu/${id}/${f}`)));
    for (const r of rs) if (r instanceof BridgeError) return r;
    const [ctl, lease, status] = rs as Exclude<(typeof rs)[number], BridgeError>[];
    if (ctl.status !== 'OK' || lease.status !== 'OK') continue;
    const text = (lines: string[]) => (lines.length === 0 ? '' : lines.join('\n') + '\n');
    if (status.status !== 'OK') log(`gpu ${id}: status not carried over (ERR ${status.label} ${status.rest})`);
    out.set(id, { ctl: text(ctl.lines), lease: text(lease.lines), status: status.status === 'OK' ? text(status.lines) : '' });
  }
  return out;
}
