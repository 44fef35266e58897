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
    // A ticketless queen attaches by uname; anyone with a ticket lets the ticket speak (uname empty).
    const uname = ticket === null ? role : '';
    const aname = ticket ?? '';
    let cur: Conn | null = null;
    let ended = false;
    const first = this.connect(uname, aname, (c) => {
      if (cur === c) cur = null;
    });
    return first.then((c) => {
      if (c instanceof NineError) return c;
      cur = c;
      // NineDoor closes routed sessions when it is hot-reloaded (it keeps the namespace, not the
      // sessions): the next request attaches again with the same credentials, once per request.
      const use = async <T>(op: (client: NineClient) => Promise<T | NineError> | NineError): Promise<T | NineError> => {
        if (ended) return new NineError('Closed', 'console session ended');
        if (cur === null) {
          const again = await this.connect(uname, aname, (x) => {
            if (cur === x) cur = null;
          });
          if (again instanceof NineError) return again;
          if (ended) {
            this.drop(again);
            return new NineError('Closed', 'console session ended');
          }
          cur = again;
        }
        return op(cur.client);
      };
      const handle: NamespaceHandle = {
        ls: (path) => pathProblem(path) ?? use((k) => k.list(path)),
        // The retained window (spec §10.2): a wrapped ring reads from its base, not from 0.
        cat: (path) => pathProblem(path) ?? use((k) => k.readAll(path, CONSOLE_READ_BYTES_MAX, true)),
        tail: (path) => pathProblem(path) ?? use((k) => k.readAll(path, CONSOLE_READ_BYTES_MAX, true)),
        echo: (path, payload) =>
          pathProblem(path) ?? use((k) => k.append(path, `${payload}\n`).then((n) => (n instanceof NineError ? n : undefined))),
        close: () => {
          ended = true;
          if (cur !== null) this.drop(cur);
          cur = null;
        },
      };
      return handle;
    });
  }

  /** Opens a routed session and attaches; `lost` hears when NineDoor closes it. */
  private connect(uname: string, aname: string, lost: (c: Conn) => void): Promise<Conn | NineError> {
    let conn: Conn | null = null;
    let client: NineClient | null = null;
    const routed = this.link.open({
      receive: (frame) => client?.receive(frame),
      closed: (reason) => {
        client?.close(reason);
        if (client) this.clients.delete(client);
        if (conn) lost(conn);
      },
    });
    if (!routed) return Promise.resolve(new NineError('Busy', 'no free NineDoor session for this console session'));
    client = new NineClient({ send: (f) => routed.send(f), nowMs: this.nowMs });
    this.clients.add(client);
    const c: Conn = { client, routed };
    conn = c;
    return client.connect(uname, aname).then((r) => {
      if (r instanceof NineError) {
        this.drop(c);
        return r;
      }
      return c;
    });
  }

  private drop(c: Conn): void {
    c.client.close('console session ended');
    this.clients.delete(c.client);
    c.routed.close();
  }
}

interface Conn {
  client: NineClient;
  routed: { session: number; send(frame: Uint8Array): void; close(): void };
}
