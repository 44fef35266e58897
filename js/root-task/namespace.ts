// NamespacePort over NineDoor: each attached console session is a 9P client on its own routed channel session.
import { Errno, NineError } from '../secure9p/errors.js';
import { NineClient } from '../secure9p/client.js';
import { nameProblem } from '../secure9p/names.js';
import type { NineDoorLink } from '../ninedoor/root-side.js';
import type { TicketRole } from '../tickets/index.js';
import type { NamespaceHandle, NamespacePort, NsAnswer } from './policy/ports.js';

/** Bytes CAT and TAIL read at most: a console stream carries 64 lines anyway. */
export const CONSOLE_READ_BYTES_MAX = 32768;

/**
 * Why a console path cannot be walked (a `.`/`..`, NUL, bad UTF-8 or overlong name), as NineDoor
 * would answer a Twalk with it: Invalid (spec §5.3). Checked here because the 9P client refuses to
 * encode such a walk and would report it as a frame that does not fit (TooBig, console `buffer-full`).
 */
export function pathProblem(path: string): NineError | null {
  for (const name of path.split('/')) {
    if (name === '') continue;
    const problem = nameProblem(name);
    if (problem !== null) return new NineError('Invalid', `invalid path: ${problem}`, Errno.EINVAL);
  }
  return null;
}

export class ChannelNamespace implements NamespacePort {
  private readonly clients = new Set<NineClient>();

  constructor(private readonly link: NineDoorLink, private readonly nowMs: () => number) {}

  /** Times out requests NineDoor never answered; call about once a second. */
  expire(): void {
    for (const c of this.clients) c.expire();
  }

  attach(role: TicketRole, identity: string | null, ticket: string | null): NsAnswer<NamespaceHandle> {
    void identity; // the ticket's subject names it; NineDoor checks both
    let client: NineClient | null = null;
    const routed = this.link.open({
      receive: (frame) => client?.receive(frame),
      closed: (reason) => {
        client?.close(reason);
        if (client) this.clients.delete(client);
      },
    });
    if (!routed) return new NineError('Busy', 'no free NineDoor session for this console session');
    client = new NineClient({ send: (f) => routed.send(f), nowMs: this.nowMs });
    this.clients.add(client);
    const c = client;
    const close = (): void => {
      c.close('console session ended');
      this.clients.delete(c);
      routed.close();
    };
    // A ticketless queen attaches by uname; anyone with a ticket lets the ticket speak (uname empty).
    return c.connect(ticket === null ? role : '', ticket ?? '').then((r) => {
      if (r instanceof NineError) {
        close();
        return r;
      }
      const handle: NamespaceHandle = {
        ls: (path) => pathProblem(path) ?? c.list(path),
        // The retained window (spec §10.2): a wrapped ring reads from its base, not from 0.
        cat: (path) => pathProblem(path) ?? c.readAll(path, CONSOLE_READ_BYTES_MAX, true),
        tail: (path) => pathProblem(path) ?? c.readAll(path, CONSOLE_READ_BYTES_MAX, true),
        echo: (path, payload) => pathProblem(path) ?? c.append(path, `${payload}\n`).then((n) => (n instanceof NineError ? n : undefined)),
        close,
      };
      return handle;
    });
  }
}
