// Tests for the Node caps provider: grants, bounds and errors as in the firmware, and the real root-task bundle on Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, createServer } from 'node:net';
import { NodeHive, type NodeTaskSpec } from './caps.js';

const ALL = ['log', 'console', 'net', 'timer', 'channel', 'task', 'image'] as const;

function fixture(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cohesix-node-caps-'));
  const p = join(dir, 'bundle.js');
  writeFileSync(p, src);
  return p;
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

function hive(tasks: NodeTaskSpec[], root: string, logs: string[]): NodeHive {
  return new NodeHive({ tasks, rootTask: root, log: (l) => logs.push(l), uartWrite: () => {} });
}

test('node caps: an ungranted capability throws CapabilityError ECAP naming it; granted ones work', async () => {
  const logs: string[] = [];
  const bundle = fixture(`export default function main(caps) {
    try { caps.net.listen({host:'127.0.0.1',port:0},{onAccept(){},onData(){},onClose(){}}); caps.log.write('no throw'); }
    catch (e) { caps.log.write([e.name, e.code, e.cap, e.message].join('|')); }
  }`);
  const h = hive([{ name: 'probe', bundle, grants: ['log'] }], 'probe', logs);
  await h.boot(null);
  assert.deepEqual(logs, ["[probe] CapabilityError|ECAP|net|capability 'net' is not granted to task 'probe'"]);
  h.stop();
});

test('node caps: a full channel inbox throws Busy, and messages arrive in order once a handler exists', async () => {
  const logs: string[] = [];
  const parent = fixture(`export default function main(caps) {
    const { ep } = caps.task.spawn({ task: 'child', label: 'kid' });
    let sent = 0;
    try { for (;;) { caps.channel.send(ep, 'm' + sent); sent++; } }
    catch (e) { caps.log.write('stopped after ' + sent + ': ' + e.code); }
    try { caps.task.spawn({ task: 'nope' }); } catch (e) { caps.log.write(e.code + ' ' + e.message); }
  }`);
  const child = fixture(`export default function main(caps) {
    let n = 0;
    caps.channel.onMessage((ep, m) => { n++; if (n === 64) caps.log.write('got 64, last ' + m + ' on ep ' + ep); });
  }`);
  const h = hive([{ name: 'parent', bundle: parent, grants: [...ALL] }, { name: 'child', bundle: child, grants: ['log', 'channel'] }], 'parent', logs);
  await h.boot(null);
  assert.equal(logs[0], '[parent] stopped after 64: Busy');
  assert.equal(logs[1], "[parent] NotFound no task 'nope' in the manifest");
  await waitFor(() => logs.length >= 3, 'the child to drain its inbox');
  assert.equal(logs[2], '[kid] got 64, last m63 on ep 0');
  h.stop();
});

test('node caps: an uncaught error in a callback is logged and the task goes on', async () => {
  const logs: string[] = [];
  const bundle = fixture(`export default function main(caps) {
    caps.timer.setTimeout(() => { throw new TypeError('boom'); }, 1);
    caps.timer.setTimeout(() => caps.log.write('still here'), 20);
  }`);
  const h = hive([{ name: 'probe', bundle, grants: ['log', 'timer'] }], 'probe', logs);
  await h.boot(null);
  await waitFor(() => logs.includes('[probe] still here'), 'the second timer');
  assert.equal(logs[0], '[probe] uncaught TypeError: boom');
  h.stop();
});

test('node caps: net.write sends a prefix given a length, copies before it returns, and refuses a length past the array', async () => {
  const logs: string[] = [];
  const port = await freePort();
  const bundle = fixture(`export default function main(caps) {
    const buf = new Uint8Array(8);
    caps.net.listen({ host: '127.0.0.1', port: ${port} }, {
      onAccept(sock) {
        for (const bad of [9, -1, 1.5, NaN]) {
          try { caps.net.write(sock, buf, bad); caps.log.write('no throw'); } catch (e) { caps.log.write(e.code); }
        }
        buf.set([104, 105, 33, 33]);
        caps.net.write(sock, buf, 2);
        buf.fill(120);
        caps.net.write(sock, buf, 0);
        caps.net.write(sock, buf, 3);
        caps.net.close(sock);
      },
      onData() {},
      onClose() {},
    });
  }`);
  const h = hive([{ name: 'probe', bundle, grants: ['log', 'net'] }], 'probe', logs);
  await h.boot(null);
  await new Promise((r) => setTimeout(r, 50));
  const sock = connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (b) => (got += b.toString('latin1')));
  await new Promise<void>((r) => sock.on('close', () => r()));
  assert.equal(got, 'hixxx', 'the first two bytes as they were when written, then three of the refilled buffer');
  assert.deepEqual(logs, ['[probe] Invalid', '[probe] Invalid', '[probe] Invalid', '[probe] Invalid']);
  h.stop();
});

test('node caps: pauseReads holds a socket\'s bytes until it is resumed; an unknown socket is a no-op', async () => {
  const logs: string[] = [];
  const port = await freePort();
  // A is paused on accept; B's bytes resume A. A's bytes went out before B connected, so unpaused they would come first.
  const bundle = fixture(`export default function main(caps) {
    const socks = [];
    caps.net.listen({ host: '127.0.0.1', port: ${port} }, {
      onAccept(sock) {
        socks.push(sock);
        if (socks.length > 1) return;
        caps.net.pauseReads(sock, true);
        caps.net.pauseReads(9999, true);
        caps.net.write(sock, new Uint8Array([112]));
      },
      onData(sock, b) {
        if (sock === socks[0]) return caps.log.write('A ' + String.fromCharCode(...b));
        caps.log.write('B ' + String.fromCharCode(...b));
        caps.net.pauseReads(socks[0], false);
      },
      onClose() {},
    });
  }`);
  const h = hive([{ name: 'probe', bundle, grants: ['log', 'net'] }], 'probe', logs);
  await h.boot(null);
  await new Promise((r) => setTimeout(r, 50));
  const a = connect(port, '127.0.0.1');
  await new Promise<void>((r) => a.once('data', () => r())); // paused by now
  await new Promise<void>((r) => a.write('abc', () => r()));
  const b = connect(port, '127.0.0.1');
  b.write('go');
  await waitFor(() => logs.includes('[probe] A abc'), "A's bytes after the resume");
  assert.deepEqual(logs, ['[probe] B go', '[probe] A abc']);
  a.destroy();
  b.destroy();
  h.stop();
});

test('node caps: a socket closed while its reads are paused still closes, and the task hears onClose', async () => {
  const logs: string[] = [];
  const port = await freePort();
  const bundle = fixture(`export default function main(caps) {
    caps.net.listen({ host: '127.0.0.1', port: ${port} }, {
      onAccept(sock) {
        caps.net.pauseReads(sock, true);
        caps.net.write(sock, new Uint8Array([98, 121, 101]));
        caps.net.close(sock);
      },
      onData() { caps.log.write('data after close'); },
      onClose() { caps.log.write('closed'); },
    });
  }`);
  const h = hive([{ name: 'probe', bundle, grants: ['log', 'net'] }], 'probe', logs);
  await h.boot(null);
  await new Promise((r) => setTimeout(r, 50));
  const sock = connect(port, '127.0.0.1');
  sock.write('unread bytes');
  let got = '';
  sock.on('data', (d) => (got += d.toString('latin1')));
  await waitFor(() => logs.includes('[probe] closed'), 'onClose of the paused socket');
  assert.equal(got, 'bye');
  assert.deepEqual(logs, ['[probe] closed'], 'no onData once closed');
  sock.destroy();
  h.stop();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function frame(line: string): Buffer {
  const body = Buffer.from(line, 'utf8');
  const h = Buffer.alloc(4);
  h.writeUInt32LE(body.length + 4);
  return Buffer.concat([h, body]);
}

test('node caps: the real hive bundles (root-task, NineDoor, worker-heart) run on Node: AUTH, ATTACH, SPAWN, telemetry', async (t) => {
  const bundle = (name: string): string => resolve(`build/bundles/${name}.js`);
  if (!existsSync(bundle('root-task'))) return t.skip('build/bundles missing: run npm run build');
  const logs: string[] = [];
  const port = await freePort();
  const board = JSON.parse(readFileSync('boards/host/manifest.json', 'utf8')) as { tasks: { name: string; grants: string[]; config: unknown }[] };
  const h = new NodeHive({
    tasks: board.tasks.map((x) => ({ name: x.name, bundle: bundle(x.name), grants: x.grants as NodeTaskSpec['grants'], config: x.config })),
    rootTask: 'root-task',
    manifest: { ...board, image_id: 'node' },
    log: (l) => logs.push(l),
    uartWrite: () => {},
  });
  await h.boot({ console: { port, bind: '127.0.0.1', auth_token: 'tok' }, ninep: { port: 0 } });
  await waitFor(() => logs.some((l) => l.includes('console ready port=')), 'the console');
  const sock = connect(port, '127.0.0.1');
  const got: string[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (b) => {
    buf = Buffer.concat([buf, b]);
    while (buf.length >= 4 && buf.length >= buf.readUInt32LE(0)) {
      const n = buf.readUInt32LE(0);
      got.push(buf.subarray(4, n).toString('utf8'));
      buf = buf.subarray(n);
    }
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const say = async (line: string, until: (l: string) => boolean, what: string): Promise<void> => {
    const from = got.length;
    sock.write(frame(line));
    await waitFor(() => got.slice(from).some(until), what, 5000);
  };
  await say('AUTH tok', (l) => l === 'OK AUTH', 'OK AUTH');
  await say('ATTACH queen', (l) => l === 'OK ATTACH role=queen', 'OK ATTACH');
  await say('SPAWN {"spawn":"heartbeat","ticks":3}', (l) => l.startsWith('OK SPAWN'), 'OK SPAWN');
  await waitFor(() => logs.some((l) => l.includes('spawned worker-1 ticks=3')), 'the policy spawn line');
  // worker-heart attaches to NineDoor with its ticket and appends every second: read it through NineDoor.
  await new Promise((r) => setTimeout(r, 1300));
  await say('CAT /worker/worker-1/telemetry', (l) => l === 'END', 'the telemetry stream');
  assert.ok(got.some((l) => /^\{"tick":1,"ts_ms":\d+\}$/.test(l)), got.join('\n'));
  sock.destroy();
  h.stop();
});

test('node caps: spawn with link gives the child endpoint 1 to the linked task, which hears onLink before its messages', async () => {
  const logs: string[] = [];
  const root = fixture(`export default function main(caps) {
    const hub = caps.task.spawn({ task: 'hub', label: 'hub' });
    const leaf = caps.task.spawn({ task: 'leaf', label: 'leaf-1', link: hub.id });
    caps.log.write('leaf linkEp ' + leaf.linkEp);
    try { caps.task.spawn({ task: 'leaf', link: 999 }); } catch (e) { caps.log.write(e.code + ' ' + e.message); }
  }`);
  const hub = fixture(`export default function main(caps) {
    caps.channel.onLink((ep, peer, label) => caps.log.write('link ep ' + ep + ' from ' + label));
    caps.channel.onMessage((ep, m) => caps.log.write('msg ep ' + ep + ': ' + m));
  }`);
  const leaf = fixture(`export default function main(caps) { caps.channel.send(1, 'hello'); }`);
  const h = hive([
    { name: 'root', bundle: root, grants: [...ALL] },
    { name: 'hub', bundle: hub, grants: ['log', 'channel'] },
    { name: 'leaf', bundle: leaf, grants: ['log', 'channel'] },
  ], 'root', logs);
  await h.boot(null);
  await waitFor(() => logs.some((l) => l.startsWith('[hub] msg')), 'the leaf message at the hub');
  assert.deepEqual(logs.filter((l) => !l.startsWith('[root]')), ['[hub] link ep 1 from leaf-1', '[hub] msg ep 1: hello']);
  assert.ok(logs.includes('[root] leaf linkEp 1'));
  assert.ok(logs.includes('[root] NotFound link: no running task 999 to link to'));
  h.stop();
});
