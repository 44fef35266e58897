// The 9P TCP listener on Node with NineDoor behind it, driven by NineClient over real sockets: framing, msize, oversize, session end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { NineError } from '../../js/secure9p/errors.js';
import { NineDoor } from '../../js/ninedoor/server.js';
import { DEV_TICKET_SECRETS, mintDevTicket } from './dev-tickets.js';
import { connectNinep, type NinepConnection } from './ninep-connect.js';
import { nineDoorSessions, serveNinep, type NinepListener } from './ninep-tcp.js';

async function hive(): Promise<{ door: NineDoor; listener: NinepListener; logs: string[] }> {
  const logs: string[] = [];
  const door = new NineDoor({
    policy: { queenCtl: () => undefined, lifecycleCtl: () => undefined },
    log: (l) => logs.push(l),
    nowMs: () => Date.now(),
    attach: { secrets: DEV_TICKET_SECRETS, allowTicketlessQueen: true },
    mockGpus: true,
  });
  door.state.setLifecycle({ state: 'ONLINE', reason: 'test', sinceMs: Date.now() });
  const listener = serveNinep({ port: 0, open: nineDoorSessions(door), log: (l) => logs.push(l) });
  await listener.ready;
  return { door, listener, logs };
}

async function dial(l: NinepListener, msizeBytes?: number): Promise<NinepConnection> {
  const c = await connectNinep('127.0.0.1', l.port(), { msizeBytes });
  assert.ok(!(c instanceof NineError), String(c));
  return c;
}

function waitFor(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const tick = (): void => {
      if (pred()) return res();
      if (Date.now() - t0 > ms) return rej(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

test('ninep tcp: a queen lists, reads and appends over TCP; closing ends the NineDoor session', async () => {
  const { door, listener } = await hive();
  try {
    const { client: c, close } = await dial(listener);
    assert.equal(await c.connect('', 'queen', 1000), 0);
    assert.deepEqual(await c.list('/'), ['gpu', 'kmesg', 'log', 'proc', 'queen', 'shard', 'trace', 'worker']);
    assert.equal(await c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
    assert.equal(await c.append('/log/queen.log', 'over tcp\n'), 9);
    assert.equal(await c.readText('/log/queen.log'), 'over tcp\n');
    assert.equal(door.activeSessions(), 1);
    close();
    await waitFor(() => listener.connections() === 0 && door.activeSessions() === 0, 'session end');
  } finally {
    await listener.close();
  }
});

test('ninep tcp: msize 65536 is answered 8192, and the session keeps working', async () => {
  const { listener } = await hive();
  try {
    // NineClient caps its own offer, so offer 65536 by hand on a raw socket first.
    const raw = connect({ host: '127.0.0.1', port: listener.port() });
    const reply = await new Promise<Buffer>((res, rej) => {
      raw.once('data', res);
      raw.once('error', rej);
      const v = Buffer.alloc(4 + 1 + 2 + 4 + 2 + 8);
      v.writeUInt32LE(v.length, 0);
      v[4] = 100;
      v.writeUInt16LE(0xffff, 5);
      v.writeUInt32LE(65536, 7);
      v.writeUInt16LE(8, 11);
      v.write('9P2000.L', 13);
      raw.write(v);
    });
    raw.destroy();
    assert.equal(reply[4], 101);
    assert.equal(reply.readUInt32LE(7), 8192);
    const { client: c, close } = await dial(listener, 65536);
    await c.connect('', 'queen');
    assert.equal(c.msize(), 8192);
    // queen.log takes records of ≤ 1024 bytes: twelve appends make a log longer than one Rread.
    const line = 'y'.repeat(999) + '\n';
    for (let i = 0; i < 12; i++) assert.equal(await c.append('/log/queen.log', line), 1000);
    const back = await c.readText('/log/queen.log');
    assert.ok(typeof back === 'string' && back.length === 12000);
    close();
  } finally {
    await listener.close();
  }
});

test('ninep tcp: a frame declared over msize gets EMSGSIZE with its tag and the session goes on', async () => {
  const { listener } = await hive();
  try {
    const { client: c, socket, close } = await dial(listener);
    await c.connect('', 'queen');
    const big = Buffer.alloc(9000);
    big.writeUInt32LE(9000, 0);
    big[4] = 118; // Twrite
    big.writeUInt16LE(0x1234, 5);
    const got = new Promise<Buffer>((res) => socket.prependOnceListener('data', res));
    socket.write(big);
    const r = await got;
    assert.equal(r[4], 7, 'Rlerror');
    assert.equal(r.readUInt16LE(5), 0x1234);
    assert.equal(r.readUInt32LE(7), 90, 'EMSGSIZE');
    assert.equal(await c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
    close();
  } finally {
    await listener.close();
  }
});

test('ninep tcp: a worker ticket gets the worker view; a forged one is EACCES', async () => {
  const { door, listener } = await hive();
  try {
    assert.equal(door.addWorker('worker-1', 'heartbeat'), null);
    const t = mintDevTicket({ role: 'worker-heartbeat', subject: 'worker-1', issuedAtMs: BigInt(Date.now()) });
    assert.equal(typeof t, 'string');
    const w = await dial(listener);
    assert.equal(await w.client.connect('', t as string), 0);
    assert.deepEqual(await w.client.list('/proc'), ['boot']);
    const denied = await w.client.list('/');
    assert.ok(denied instanceof NineError && denied.errno === 1);
    w.close();
    const f = await dial(listener);
    const forged = await f.client.connect('', (t as string).slice(0, -2) + '00');
    assert.ok(forged instanceof NineError && forged.errno === 13, String(forged));
    f.close();
  } finally {
    await listener.close();
  }
});
