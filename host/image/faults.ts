// Fault injection for the power-loss tests: COHIMG_KILL_AT=<point> makes cohimg SIGKILL itself at that point.
//
// Points: `flash-bytes:<N>` (once N bytes of a flash are written), `install:image-tmp`,
// `install:image-renamed`, `install:state-tmp`, `install:state-renamed` (docs/slots.md).

export function killPoint(point: string): void {
  if (process.env.COHIMG_KILL_AT === point) {
    process.stderr.write(`cohimg: COHIMG_KILL_AT=${point}: killing myself (power-loss test)\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

/** The byte count of a `flash-bytes:<N>` point, if one is set. */
export function killAfterBytes(): number | null {
  const m = /^flash-bytes:(\d+)$/.exec(process.env.COHIMG_KILL_AT ?? '');
  return m ? Number(m[1]) : null;
}
