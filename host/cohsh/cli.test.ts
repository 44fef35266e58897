// cohsh end to end against a real TCP console (js/console sessions over a mock hive): scripts, exit codes, AUTH, lock, ERR, reconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProviderError } from '../../js/console/errors.js';
import { verifyTicket } from '../../js/tickets/token.js';
import { cohsh, scratch, start } from './cli.support.js';
import { FakeConsoleServer } from './fake-server.support.js';
import { BANNER, DETACHED_HINT } from './interactive.js';
import { consoleLockPath } from './lock.js';

async function withServer(fn: (s: FakeConsoleServer, tcp: string[]) => Promise<void>): Promise<void> {
  const s = new FakeConsoleServer();
  const port = await s.start();
  try {
    await fn(s, ['--tcp-host', '127.0.0.1', '--tcp-port', String(port)]);
  } finally {
    await s.stop();
  }
}

function script(text: string): string {
  const f = join(scratch(), 'test.coh');
  writeFileSync(f, text);
  return f;
}

test('--script bug: an extra PING followed ATTACH on the wire; a script sends its own lines and nothing else', async () => {
  await withServer(async (s, tcp) => {
    const r = await cohsh([...tcp, '--script', script('attach queen\nEXPECT OK\nls /\nquit\n')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(s.received, ['AUTH changeme', 'ATTACH queen', 'LS /', 'quit']);
    s.received.length = 0;
    const q = await cohsh([...tcp, '--role', 'queen', '--script', script('ping\n')]);
    assert.equal(q.code, 0, q.err);
    assert.deepEqual(s.received, ['AUTH changeme', 'ATTACH queen', 'PING', 'quit'], 'one PING: the script\'s');
  });
});

test('--script bug: no banner was printed; a script\'s transcript opens with the banner (and the detached hint without --role), as the reference cohsh', async () => {
  await withServer(async (_s, tcp) => {
    const r = await cohsh([...tcp, '--script', script('attach queen\nquit\n')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.startsWith(`${BANNER}\n${DETACHED_HINT}\n[console] OK ATTACH role=queen\n`), r.out);
    const q = await cohsh([...tcp, '--role', 'queen', '--script', script('quit\n')]);
    assert.ok(q.out.startsWith(`${BANNER}\n[console] OK ATTACH role=queen\n`), q.out);
    const j = await cohsh([...tcp, '--json', '--role', 'queen', '--script', script('quit\n')]);
    assert.ok(!j.out.includes(BANNER), 'JSON output stays one object per line');
  });
});

test('script over TCP: AUTH, ATTACH, the §4.3 wire mapping and outputs, exit 0', async () => {
  await withServer(async (s, tcp) => {
    const f = script([
      'attach queen',
      'EXPECT OK',
      'ping',
      'EXPECT SUBSTR reply=pong',
      'ls /',
      'EXPECT SUBSTR entries=',
      'cat /proc/boot',
      'echo "hello hive" > /log/queen.log',
      'EXPECT SUBSTR bytes=10',
      'spawn heartbeat ticks=5',
      'EXPECT OK',
      'tail /worker/worker-1/telemetry',
      'kill worker-1',
      'bind /log /mylog',
      'mount logs /m',
      'lifecycle cordon',
      'EXPECT OK',
      'log',
      'EXPECT OK',
    ].join('\n'));
    const r = await cohsh([...tcp, '--script', f]);
    assert.equal(r.code, 0, r.err);
    for (const want of [
      '[console] OK ATTACH role=queen\nattached session 1 as Queen\n',
      '[console] OK PING reply=pong\nping: pong\n',
      '[console] OK LS path=/ entries=5\ngpu\nlog\nproc\nqueen\nworker\n',
      '[console] OK ECHO path=/log/queen.log bytes=10\n',
      '[console] OK ECHO path=/queen/ctl bytes=31\n',
      '[console] OK ECHO path=/queen/lifecycle/ctl bytes=6\n',
      'spawned worker-1 ticks=5 ttl=300 ops=10000\n',
    ]) assert.ok(r.out.includes(want), `missing ${JSON.stringify(want)} in ${r.out}`);
    const wire = s.received.filter((l) => l !== 'PING');
    assert.deepEqual(wire, [
      'AUTH changeme',
      'ATTACH queen',
      'LS /',
      'CAT /proc/boot',
      'ECHO /log/queen.log hello hive',
      'ECHO /queen/ctl {"spawn":"heartbeat","ticks":5}',
      'TAIL /worker/worker-1/telemetry',
      'ECHO /queen/ctl {"kill":"worker-1"}',
      'ECHO /queen/ctl {"bind":{"from":"/log","to":"/mylog"}}',
      'ECHO /queen/ctl {"mount":{"service":"logs","at":"/m"}}',
      'CAT /proc/lifecycle/state',
      'ECHO /queen/lifecycle/ctl cordon',
      'TAIL /log/queen.log',
      'quit',
    ]);
  });
});

test('a failing EXPECT exits 1 with the failure text on stderr', async () => {
  await withServer(async (_s, tcp) => {
    const r = await cohsh([...tcp, '--role', 'queen', '--script', script('ls /\nEXPECT SUBSTR entries=99\nping\n')]);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'script failure at line 2: EXPECT SUBSTR entries=99\nreason: response does not contain \'entries=99\'\nlast command: ls /\nlast response: OK LS path=/ entries=5\n');
  });
});

test('server ERR: printed as [console] ERR, tolerated before EXPECT ERR, fatal otherwise', async () => {
  await withServer(async (s, tcp) => {
    s.failEcho.set('/queen/ctl', new ProviderError('busy'));
    const ok = await cohsh([...tcp, '--role', 'queen', '--script', script('spawn heartbeat ticks=1\nEXPECT ERR\nEXPECT SUBSTR EBUSY\n')]);
    assert.equal(ok.code, 0, ok.err);
    assert.ok(ok.out.includes('[console] ERR ECHO reason=busy detail=busy path=/queen/ctl error=EBUSY\n'));
    const bad = await cohsh([...tcp, '--role', 'queen', '--script', script('spawn heartbeat ticks=1\nping\n')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^script failure at line 1: spawn heartbeat ticks=1\nreason: command failed\n/);
  });
});

test('lifecycle: an invalid transition is refused locally, with no ECHO sent', async () => {
  await withServer(async (s, tcp) => {
    const r = await cohsh([...tcp, '--role', 'queen', '--script', script('lifecycle drain\nEXPECT ERR\nEXPECT SUBSTR invalid-transition\n')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes('[console] ERR LIFECYCLE action=drain state=ONLINE reason=invalid-transition\n'));
    assert.ok(!s.received.some((l) => l.startsWith('ECHO /queen/lifecycle/ctl')));
  });
});

test('msize overflow: the oversize frame gets ERR FRAME and the session survives', async () => {
  await withServer(async (_s, tcp) => {
    const r = await cohsh([...tcp, '--role', 'queen', '--script', script('echo {{msize_overflow}} > /queen/ctl\nEXPECT ERR\nEXPECT SUBSTR invalid-length\nping\nEXPECT OK\n')]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes('[console] ERR FRAME reason=invalid-length\n'));
  });
});

test('client checks in a script: not attached, bad path, echo syntax, unknown role, already attached', async () => {
  await withServer(async (s, tcp) => {
    const run = async (text: string) => cohsh([...tcp, '--script', script(text)]);
    const cases: Array<[string, string]> = [
      ['ping', 'ping: not attached'],
      ['attach', 'attach requires a role'],
      ['attach king', "unknown role 'king'"],
      ['attach queen\nattach queen', "already attached; run 'quit' to close the current session"],
      ['attach queen\ncat ../etc', "invalid path '../etc': must be absolute"],
      ['attach queen\necho hi', 'echo requires syntax: echo <text> > <path>'],
      ['attach queen\nspawn heartbeat ticks=1 color=red', 'unknown spawn options: color'],
    ];
    for (const [text, message] of cases) {
      const r = await run(text);
      assert.equal(r.code, 1, text);
      assert.ok(r.err.startsWith(`${message}\nscript failure at line`), `${text}: ${r.err}`);
    }
    assert.ok(!s.received.some((l) => l.startsWith('ECHO') || l.startsWith('CAT')), 'refused locally, nothing sent');
  });
});

test('exit codes: refused AUTH and connection refused are 1, with clear messages', async () => {
  await withServer(async (_s, tcp) => {
    const len = await cohsh([...tcp, '--role', 'queen', '--auth-token', 'nope', '--script', script('ping\n')]);
    assert.equal(len.code, 1);
    assert.ok(len.err.includes('auth failed: invalid-length (check --auth-token or COHSH_AUTH_TOKEN)'), len.err);
    const tok = await cohsh([...tcp, '--role', 'queen', '--script', script('ping\n')], '', { COHSH_AUTH_TOKEN: 'changeMe' });
    assert.equal(tok.code, 1);
    assert.ok(tok.err.includes('auth failed: invalid-token'), tok.err);
  });
  const dead = new FakeConsoleServer();
  const port = await dead.start();
  await dead.stop();
  const r = await cohsh(['--tcp-port', String(port), '--role', 'queen', '--script', script('ping\n')]);
  assert.equal(r.code, 1);
  assert.ok(r.err.includes(`connection refused: 127.0.0.1:${port} (is the hive running? check --tcp-host/--tcp-port)`), r.err);
});

test('exit code 2 for usage errors', async () => {
  for (const argv of [['--bogus'], ['ls'], ['--transport', 'serial'], ['--script', 'a', '--check', 'b'], ['--tcp-port', '70000'], ['--role', 'king'], ['--mint-ticket'], ['--ticket', 't']]) {
    const r = await cohsh(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.ok(r.err.endsWith("run 'cohsh --help' for usage\n"), r.err);
  }
  const h = await cohsh(['--help']);
  assert.equal(h.code, 0);
  assert.ok(h.out.startsWith('usage: cohsh'));
});

test('--check prints check ok, or the syntax error and exits 1', async () => {
  const good = script('attach queen\nEXPECT OK\nWAIT 10\n');
  assert.deepEqual(await cohsh(['--check', good]), { code: 0, out: `check ok: ${good}\n`, err: '' });
  const bad = script('EXPECT OK\n');
  const r = await cohsh(['--check', bad]);
  assert.equal(r.code, 1);
  assert.equal(r.err, `${bad}: script syntax error at line 1: EXPECT before the first command\n`);
});

test('console lock: a live holder makes a second client fail; COHSH_CONSOLE_LOCK=0 skips it; released on exit', async () => {
  await withServer(async (_s, tcp) => {
    const port = Number(tcp[3]);
    const path = consoleLockPath('127.0.0.1', port);
    const f = script('attach queen\nping\n');
    writeFileSync(path, `${process.pid}\n`);
    try {
      const busy = await cohsh([...tcp, '--script', f]);
      assert.equal(busy.code, 1);
      assert.equal(busy.err, `cohsh: console busy: lock held at ${path}\n`);
      assert.equal((await cohsh([...tcp, '--script', f], '', { COHSH_CONSOLE_LOCK: '0' })).code, 0);
    } finally {
      writeFileSync(path, '999999999\n');
    }
    // A stale lock (its pid is gone) is taken over, and removed again at exit.
    assert.equal((await cohsh([...tcp, '--script', f])).code, 0);
    assert.equal(existsSync(path), false);
  });
});

test('interactive: banner, detached hint, prompt, quit', async () => {
  const r = await cohsh(['--transport', 'mock'], 'help\nquit\n');
  assert.equal(r.code, 0);
  assert.ok(r.out.startsWith("Welcome to Cohesix. Type 'help' for commands.\ndetached shell: run 'attach <role>' to connect\ncoh> "), r.out);
  assert.ok(r.out.includes('commands:\n'));
  assert.ok(r.out.endsWith('closing session\n'));
});

test('interactive TCP with --role attaches and runs log at start', async () => {
  await withServer(async (_s, tcp) => {
    const r = await cohsh([...tcp, '--role', 'queen'], 'quit\n');
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes('attached session 1 as Queen\n[console] OK TAIL path=/log/queen.log\nCohesix boot: root-task online\n'), r.out);
    assert.ok(!r.out.includes('detached shell'));
  });
});

test('reconnect: a dropped connection is retried, re-AUTHed and re-ATTACHed with the cached role', async () => {
  await withServer(async (s, tcp) => {
    const c = start([...tcp, '--retry-backoff-ms', '20']);
    c.stdin.write('attach queen\n');
    await c.waitOut('attached session 1 as Queen');
    s.dropAll();
    await c.waitErr('[cohsh][tcp] reconnected to');
    assert.match(c.err(), /^\[cohsh\]\[tcp\] connection lost: closed by server\n\[cohsh\]\[tcp\] reconnect attempt #1 in 20 ms\n/);
    assert.equal(s.connections, 2);
    assert.equal(s.received.filter((l) => l === 'ATTACH queen').length, 2);
    c.stdin.write('ping\n');
    await c.waitOut('ping: pong');
    c.stdin.end();
    assert.equal(await c.done, 0);
  });
});

test('reconnect gives up after the attempts with doubling back-off, then the shell is detached', async () => {
  const s = new FakeConsoleServer();
  const port = await s.start();
  const c = start(['--tcp-port', String(port), '--retry-backoff-ms', '10', '--retry-ceiling-ms', '35', '--retry-timeout-ms', '500']);
  c.stdin.write('attach queen\n');
  await c.waitOut('attached session 1');
  await s.stop();
  await c.waitErr('reconnect failed');
  const lines = c.err().trim().split('\n');
  assert.deepEqual(lines.slice(0, 4), [
    '[cohsh][tcp] connection lost: closed by server',
    '[cohsh][tcp] reconnect attempt #1 in 10 ms',
    '[cohsh][tcp] reconnect attempt #2 in 20 ms',
    '[cohsh][tcp] reconnect attempt #3 in 35 ms',
  ]);
  assert.match(lines[4], /^\[cohsh\]\[tcp\] reconnect failed after 3 attempts: connection refused: .*; run 'attach <role>' to retry$/);
  c.stdin.end('ping\n');
  assert.equal(await c.done, 0);
  assert.ok(c.err().includes('ping: not attached\n'));
});

test('script mode: a lost connection fails the next command (no reconnect)', async () => {
  await withServer(async (s, tcp) => {
    const c = start([...tcp, '--role', 'queen', '--script', script('WAIT 300\nping\n')]);
    await s.waitFor(() => s.received.includes('ATTACH queen'), 'attach');
    await new Promise((r) => setTimeout(r, 50));
    s.dropAll();
    c.stdin.end();
    assert.equal(await c.done, 1);
    assert.ok(c.err().includes('ping: not attached (connection lost: closed by server)\n'), c.err());
    assert.ok(c.err().includes('script failure at line 2: ping\n'));
  });
});

test('idle keepalive: a silent PING goes out after the heartbeat interval', async () => {
  await withServer(async (s, tcp) => {
    const c = start([...tcp, '--heartbeat-interval-ms', '40']);
    c.stdin.write('attach queen\n');
    await c.waitOut('attached session 1');
    const before = s.received.filter((l) => l === 'PING').length;
    await s.waitFor(() => s.received.filter((l) => l === 'PING').length >= before + 2, 'heartbeat pings');
    c.stdin.end();
    assert.equal(await c.done, 0);
    assert.ok(!c.out().includes('pong'), 'keepalive prints nothing');
  });
});

test('--json: one JSON object per command with response, acks and lines', async () => {
  await withServer(async (_s, tcp) => {
    const r = await cohsh([...tcp, '--json', '--role', 'queen', '--script', script('ls /proc\ncat /nope\nEXPECT ERR\n')]);
    assert.equal(r.code, 0, r.err);
    const objs = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(objs.map((o) => [o.command, o.ok]), [['attach queen', true], ['ls /proc', true], ['cat /nope', false]]);
    assert.equal(objs[1].response, 'OK LS path=/proc entries=4');
    assert.deepEqual(objs[1].lines, ['boot', 'lifecycle', 'root', 'tests']);
    assert.deepEqual(objs[2].acks, ['ERR CAT reason=policy detail=invalid-path path=/nope error=invalid path']);
  });
});

test('--mint-ticket bug: a worker role without --ticket-subject exited 2 (usage); it is a minting failure, exit 1, as the reference cohsh', async () => {
  for (const argv of [['--mint-ticket', '--role', 'worker'], ['--mint-ticket', '--role', 'worker-gpu', '--ticket-secret', 's'], ['--mint-ticket', '--role', 'worker-heartbeat', '--ticket-subject', '']]) {
    const r = await cohsh(argv);
    assert.deepEqual([r.code, r.out], [1, ''], argv.join(' '));
    assert.match(r.err, /^cohsh: --mint-ticket --role worker(-gpu|-heartbeat)? requires --ticket-subject\n$/, r.err);
  }
});

test('--mint-ticket prints a ticket that verifies with the role secret', async () => {
  const r = await cohsh(['--mint-ticket', '--role', 'worker', '--ticket-subject', 'worker-1', '--ticket-secret', 'worker']);
  assert.equal(r.code, 0, r.err);
  const claims = verifyTicket(r.out.trim(), 'worker');
  assert.ok('role' in claims && claims.role === 'worker-heartbeat' && claims.subject === 'worker-1');
  const env = await cohsh(['--mint-ticket', '--role', 'queen'], '', { COHSH_TICKET_SECRET: 'bootstrap' });
  assert.ok('role' in verifyTicket(env.out.trim(), 'bootstrap'));
});

test('worker attach with a minted ticket over TCP; the §4.1 transports mock and qemu', async () => {
  await withServer(async (_s, tcp) => {
    const t = (await cohsh(['--mint-ticket', '--role', 'worker-heartbeat', '--ticket-subject', 'worker-1', '--ticket-secret', 'worker'])).out.trim();
    const r = await cohsh([...tcp, '--script', script(`attach worker-heartbeat ${t}\nEXPECT OK\n`)]);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes('attached session 1 as WorkerHeartbeat'));
  });
  const mock = await cohsh(['--transport', 'mock', '--mock-seed-gpu', '--role', 'queen', '--script', script('spawn gpu gpu_id=GPU-0 mem_mb=1 streams=1 ttl_s=5\nEXPECT OK\ncat /gpu/GPU-0/info\nEXPECT OK\nls /gpu/GPU-0\nEXPECT SUBSTR entries=4\n')]);
  assert.equal(mock.code, 0, mock.err);
  const q = await cohsh(['--transport', 'qemu']);
  assert.equal(q.code, 1);
  assert.match(q.err, /transport qemu is not available on this build/);
});

test('telemetry push: ctl line with the mime, latest, then ordered v1 records within the ECHO bound', async () => {
  await withServer(async (s, tcp) => {
    const dir = scratch();
    const src = join(dir, 'data.ndjson');
    const text = Array.from({ length: 8 }, (_, i) => JSON.stringify({ i, v: 'x'.repeat(20) })).join('\n') + '\n';
    writeFileSync(src, text);
    const r = await cohsh([...tcp, '--role', 'queen', '--script', script(`telemetry push ${src} --device dev-1\nEXPECT OK\n`)]);
    assert.equal(r.code, 0, r.err);
    const seg = s.hive.devices.get('dev-1')?.segments.get('seg-000001') ?? [];
    assert.ok(seg.length > 1);
    const recs = seg.map((l) => JSON.parse(l));
    assert.deepEqual(recs.map((x) => x.seq), recs.map((_, i) => i + 1));
    assert.equal(recs.map((x) => x.payload).join(''), text);
    assert.deepEqual(Object.keys(recs[0]), ['schema', 'seq', 'mime', 'payload']);
    assert.equal(recs[0].mime, 'application/x-ndjson');
    assert.ok(seg.every((l) => Buffer.byteLength(l) <= 128));
    assert.ok(s.received.includes('ECHO /queen/telemetry/dev-1/ctl {"new":"segment","mime":"application/x-ndjson"}'));
    // bytes= is what was sent into the segment (each record and its newline), as the reference cohsh reports it (issue 13 bug 12).
    const sent = seg.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    assert.ok(sent !== Buffer.byteLength(text), 'the test tells the two apart');
    assert.ok(r.out.includes(`[console] OK TELEMETRY action=push device=dev-1 seg_id=seg-000001 records=${seg.length} bytes=${sent}\n`), r.out);
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'x'.repeat(32769));
    const b = await cohsh([...tcp, '--role', 'queen', '--script', script(`telemetry push ${big} --device d\n`)]);
    assert.equal(b.code, 1);
    assert.ok(b.out.includes('[console] ERR TELEMETRY action=push device=d reason=telemetry push source exceeds max_bytes_per_segment 32768 bytes\n'));
  });
});

test('self-test: reports PASS per check, and a clear error when the hive serves no /proc/tests', async () => {
  const pass = await cohsh(['--transport', 'mock', '--role', 'queen', '--script', script('test --mode quick\nEXPECT SUBSTR PASS\n')]);
  assert.equal(pass.code, 0, pass.err);
  assert.match(pass.out, /selftest PASS mode=quick elapsed_ms=\d+\nPASS - preflight\/ping \(OK PING reply=pong\)\n/);
  await withServer(async (s, tcp) => {
    for (const k of [...s.hive.files.keys()]) if (k.startsWith('/proc/tests/')) s.hive.files.delete(k);
    const r = await cohsh([...tcp, '--role', 'queen', '--script', script('test --json\n')]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.out.trim().split('\n').find((l) => l.startsWith('{"ok"')) as string);
    assert.equal(report.ok, false);
    assert.equal(report.version, '1');
    assert.equal(report.checks[1].name, 'fetch /proc/tests/selftest_negative.coh');
    assert.match(report.checks[1].detail, /^this hive does not serve \/proc\/tests\/selftest_negative\.coh \(ERR CAT reason=policy detail=invalid-path/);
  });
});
