// Shell pieces beyond the reference: tail -f following, Tab completion, history, help, lifecycle table, telemetry chunking, the bin launcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleClient } from './client.js';
import { commandHelp, commandNames, runCommand, type ShellContext } from './commands.js';
import { complete } from './complete.js';
import { unseenLines, parsePollInterval } from './follow.js';
import { History, keepInHistory } from './history.js';
import { transitionAllowed, stateFromText } from './lifecycle.js';
import { acquireConsoleLock, consoleLockPath } from './lock.js';
import { MockHive } from './mock/hive.js';
import { MockTransport } from './mock/transport.js';
import { CommandRecord, useColour, TextSink } from './output.js';
import { FakeConsoleServer } from './fake-server.support.js';
import { chunkRecords, recordLine } from './telemetry-push.js';
import { telemetryPush } from './telemetry-push.js';
import { tcpDiag } from './tcp-diag.js';
import { CohshError } from './errors.js';
import { scratch } from './cli.support.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

function mockContext(hive: MockHive): { ctx: ShellContext; rec: CommandRecord; client: ConsoleClient } {
  const client = new ConsoleClient({
    transport: new MockTransport(hive, 'changeme'),
    authToken: 'changeme',
    retry: { maxAttempts: 3, backoffMs: 10, ceilingMs: 20, timeoutMs: 2000 },
    heartbeatMs: 0,
    reconnect: false,
    attachBarrier: true,
    diag: () => undefined,
  });
  const rec = new CommandRecord(null);
  return { ctx: { client, sink: rec, diagHost: '127.0.0.1', diagPort: 1, telemetryPush, tcpDiag }, rec, client };
}

test('unseenLines prints only what follows the overlap with the last snapshot', () => {
  assert.deepEqual(unseenLines([], ['a', 'b']), ['a', 'b']);
  assert.deepEqual(unseenLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e']), ['d', 'e']);
  assert.deepEqual(unseenLines(['a', 'b'], ['a', 'b']), []);
  assert.deepEqual(unseenLines(['x'], ['y', 'z']), ['y', 'z']);
  assert.equal(parsePollInterval('249'), 'poll interval 249 ms is outside 250..10000 ms');
  assert.equal(parsePollInterval('10001'), 'poll interval 10001 ms is outside 250..10000 ms');
  assert.equal(parsePollInterval('1000'), 1000);
});

test('tail -f polls, prints new lines once, and stops on the abort signal (Ctrl-C) without ending the shell', async () => {
  const hive = new MockHive();
  const { ctx, rec, client } = mockContext(hive);
  assert.equal((await runCommand(ctx, 'attach queen')).ok, true);
  const ctl = new AbortController();
  const following = runCommand({ ...ctx, followSignal: () => ctl.signal }, 'log -f --interval-ms 250');
  await new Promise((r) => setTimeout(r, 100));
  hive.log('first new line');
  await new Promise((r) => setTimeout(r, 300));
  hive.log('second new line');
  await new Promise((r) => setTimeout(r, 300));
  ctl.abort();
  assert.deepEqual(await following, { ok: true });
  assert.equal(rec.lines.filter((l) => l === 'first new line').length, 1);
  assert.equal(rec.lines.filter((l) => l === 'second new line').length, 1);
  assert.ok(rec.messages.includes('stopped following /log/queen.log'));
  const noFollow = await runCommand(ctx, 'tail -f /log/queen.log');
  assert.equal(noFollow.ok, false);
  assert.ok(rec.errors.includes('tail -f: following is for the interactive shell (use WAIT and tail in scripts)'));
  await client.close();
});

test('completion: commands, roles, lifecycle words, and paths from an LS of the parent', async () => {
  const names = commandNames();
  const listed: string[] = [];
  const lister = async (dir: string) => {
    listed.push(dir);
    return dir === '/proc' ? ['boot', 'lifecycle', 'tests'] : dir === '/' ? ['log', 'proc'] : null;
  };
  assert.deepEqual(await complete('pi', names, lister), [['ping '], 'pi']);
  assert.deepEqual((await complete('l', names, lister))[0], ['lifecycle', 'log', 'login', 'ls']);
  assert.deepEqual(await complete('attach wor', names, lister), [['worker', 'worker-heartbeat', 'worker-gpu', 'worker-bus', 'worker-lora'], 'wor']);
  assert.deepEqual(await complete('lifecycle c', names, lister), [['cordon'], 'c']);
  assert.deepEqual(await complete('cat /proc/l', names, lister), [['/proc/lifecycle'], '/proc/l']);
  assert.deepEqual(await complete('ls /p', names, lister), [['/proc'], '/p']);
  assert.deepEqual(await complete('echo hi > /proc/', names, lister), [['/proc/boot', '/proc/lifecycle', '/proc/tests'], '/proc/']);
  assert.deepEqual(await complete('cat /nothing/x', names, lister), [[], '/nothing/x']);
  assert.deepEqual(listed, ['/proc', '/', '/proc', '/nothing']);
});

test('history: persisted, bounded, no blank lines, repeats or tickets', () => {
  const path = join(scratch(), 'history');
  const h = new History(path, 3);
  for (const l of ['ls /', 'ls /', '', 'attach worker cohesix-ticket-00.11', 'cat /a', 'cat /b', 'cat /c']) h.add(l);
  assert.deepEqual(h.lines, ['cat /a', 'cat /b', 'cat /c']);
  assert.deepEqual(new History(path, 3).load().lines, ['cat /a', 'cat /b', 'cat /c']);
  assert.deepEqual(h.newestFirst(), ['cat /c', 'cat /b', 'cat /a']);
  assert.ok(!readFileSync(path, 'utf8').includes('cohesix-ticket-'));
  assert.equal(keepInHistory('attach queen'), true);
});

test('help exists for every command and `<cmd> --help` prints it', async () => {
  for (const n of commandNames()) assert.ok((commandHelp(n) ?? [])[0].startsWith('usage: '), n);
  const { ctx, rec } = mockContext(new MockHive());
  assert.deepEqual(await runCommand(ctx, 'spawn --help'), { ok: true });
  assert.equal(rec.lines[0], 'usage: spawn heartbeat|worker|worker-heartbeat ticks=<n> [ttl_s=<n>] [ops=<n>]');
  assert.equal((await runCommand(ctx, 'help nope')).ok, false);
  assert.deepEqual(rec.errors, ["help: unknown command 'nope'"]);
});

test('lifecycle table of §9 and state parsing', () => {
  assert.equal(transitionAllowed('cordon', 'ONLINE'), true);
  assert.equal(transitionAllowed('cordon', 'DRAINING'), false);
  assert.equal(transitionAllowed('drain', 'DRAINING'), true);
  assert.equal(transitionAllowed('drain', 'ONLINE'), false);
  assert.equal(transitionAllowed('quiesce', 'DEGRADED'), true);
  assert.equal(transitionAllowed('quiesce', 'QUIESCED'), false);
  assert.equal(transitionAllowed('resume', 'ONLINE'), false);
  assert.equal(transitionAllowed('resume', 'OFFLINE'), true);
  assert.equal(transitionAllowed('reset', 'BOOTING'), false);
  assert.equal(transitionAllowed('reset', 'QUIESCED'), true);
  assert.equal(stateFromText(['OK CAT path=/proc/lifecycle/state data=state=DRAINING']), 'DRAINING');
  assert.equal(stateFromText(['nothing']), null);
});

test('telemetry records: exact field order, whole code points, each within the bound', () => {
  assert.equal(recordLine(1, 'text/csv', 'a"b'), '{"schema":"cohsh-telemetry-push/v1","seq":1,"mime":"text/csv","payload":"a\\"b"}');
  const text = 'héllo wörld ✓ '.repeat(10);
  const recs = chunkRecords(text, 'text/plain', 128) as string[];
  assert.ok(Array.isArray(recs));
  assert.equal(recs.map((r) => JSON.parse(r).payload).join(''), text);
  assert.ok(recs.every((r) => Buffer.byteLength(r) <= 128));
  assert.ok(chunkRecords('x', 'text/plain', 10) instanceof CohshError);
});

test('console lock file: name, exclusive while held, released', () => {
  const dir = scratch();
  assert.equal(consoleLockPath('127.0.0.1', 31337, dir), join(dir, 'cohesix-console-127.0.0.1-31337.lock'));
  assert.equal(consoleLockPath('::1', 1, dir), join(dir, 'cohesix-console-__1-1.lock'));
  const a = acquireConsoleLock('h', 1, dir);
  assert.ok(!(a instanceof CohshError));
  const b = acquireConsoleLock('h', 1, dir);
  assert.ok(b instanceof CohshError && b.message === `console busy: lock held at ${join(dir, 'cohesix-console-h-1.lock')}` && b.code === 'lock-busy');
  if (!(a instanceof CohshError)) a.release();
  const c = acquireConsoleLock('h', 1, dir);
  assert.ok(!(c instanceof CohshError));
  if (!(c instanceof CohshError)) c.release();
  writeFileSync(join(dir, 'cohesix-console-h-2.lock'), 'garbage\n');
  assert.ok(!(acquireConsoleLock('h', 2, dir) instanceof CohshError), 'an unreadable pid is stale');
});

test('bin/cohsh launcher: --help exits 0, a usage error exits 2 (real process exit codes)', () => {
  const bin = join(REPO, 'bin', 'cohsh');
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.ok(help.stdout.startsWith('usage: cohsh'));
  const bad = spawnSync(process.execPath, [bin, '--nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  const check = spawnSync(process.execPath, [bin, '--transport', 'mock'], { encoding: 'utf8', input: 'attach queen\nping\nquit\n', env: { ...process.env, COHSH_HISTORY: join(scratch(), 'h') } });
  assert.equal(check.status, 0, check.stderr);
  assert.ok(check.stdout.includes('ping: pong\n'));
});

test('detach sends quit, prints OK DETACH, and the shell can attach again', async () => {
  const hive = new MockHive();
  const { ctx, rec, client } = mockContext(hive);
  assert.equal((await runCommand(ctx, 'detach')).ok, false);
  assert.deepEqual(rec.errors, ['detach: not attached']);
  await runCommand(ctx, 'attach queen');
  const own = new CommandRecord(null);
  assert.deepEqual(await runCommand({ ...ctx, sink: own }, 'detach'), { ok: true });
  assert.equal(own.response(), 'OK DETACH');
  assert.deepEqual(own.acks, []);
  assert.equal(client.attachment(), null);
  assert.deepEqual(await runCommand(ctx, 'attach queen'), { ok: true });
  assert.equal(rec.messages[rec.messages.length - 1], 'attached session 2 as Queen');
  await client.close();
});

test('tcp-diag: connect ok to a listener, ECONNREFUSED with a hint otherwise', async () => {
  const s = new FakeConsoleServer();
  const port = await s.start();
  const { ctx, rec } = mockContext(new MockHive());
  assert.deepEqual(await runCommand({ ...ctx, diagPort: port }, 'tcp-diag'), { ok: true });
  assert.match(rec.lines[0], new RegExp(`^tcp-diag: 127\\.0\\.0\\.1:${port} connect ok in \\d+ ms`));
  await s.stop();
  assert.deepEqual(await runCommand(ctx, `tcp-diag ${port}`), { ok: false });
  assert.match(rec.lines[1], new RegExp(`^tcp-diag: 127\\.0\\.0\\.1:${port} connect failed after \\d+ ms: ECONNREFUSED \\(nothing listens there; is the hive running\\?\\)$`));
  assert.deepEqual(await runCommand(ctx, 'tcp-diag 0'), { ok: false });
});

test('colour only on a TTY without NO_COLOR; plain text otherwise', () => {
  assert.equal(useColour(true, {}), true);
  assert.equal(useColour(true, { NO_COLOR: '1' }), false);
  assert.equal(useColour(false, {}), false);
  let out = '';
  new TextSink({ out: (t) => (out += t), err: () => undefined }, true).ack('ERR X');
  assert.equal(out, '\x1b[2m[console]\x1b[0m \x1b[31mERR X\x1b[0m\n');
  out = '';
  new TextSink({ out: (t) => (out += t), err: () => undefined }, false).ack('OK X');
  assert.equal(out, '[console] OK X\n');
});
