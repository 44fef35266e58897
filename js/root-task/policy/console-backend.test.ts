// The console backend over NineDoor: §3.6 refusal tags for /queen/ctl errors, role views for worker consoles, queen.log CAT, cut and pressure bookkeeping.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { AttachGuard } from '../../console/attach-guard.js';
import { UartConsoleSession } from '../../console/uart.js';
import { utf8Decode, utf8Encode } from '../../bytes/utf8.js';
import { TcpConsoleSession } from '../../console/session.js';
import { frame, settle } from '../../console/session.support.js';
import { NineError } from '../../secure9p/errors.js';
import { mintTicket } from '../../tickets/token.js';
import { baseClaims } from '../../tickets/claims.js';
import { InfoRefusal } from '../../console/backend.js';
import { ConsoleBackends, contentLines, providerErrorOf } from './console-backend.js';
import { lifecycle, policyHive, SECRETS, WALL0_MS, type PolicyHive } from './policy.support.js';
import { wrote } from '../../ninedoor/door.support.js';

/** A UART console (no AUTH) over the policy backend: each line's reply lines, prompt and echo stripped. */
function uart(h: PolicyHive, backends: ConsoleBackends = h.backends) {
  let out = '';
  const s = new UartConsoleSession({ backend: backends.make('uart'), guard: new AttachGuard(), write: (t) => (out += t) });
  return (line: string): string[] => {
    out = '';
    s.receive(utf8Encode(`${line}\n`), h.clock.mono);
    return out.split('\r\n').slice(1).filter((l) => l !== '' && l !== 'cohesix> ');
  };
}

test('console: /queen/ctl refusals through SPAWN/KILL carry the §7 console tags after the ACK', () => {
  const h = policyHive();
  const say = uart(h);
  say('attach queen');
  deepEqual(say('spawn {"spawn":"heartbeat"}'), ['OK SPAWN payload={"spawn":"heartbeat"}', 'ERR SPAWN reason=policy detail=invalid-payload error=invalid payload']);
  deepEqual(say('spawn {"spawn":"heartbeat","ticks":1,"x":2}'), ['OK SPAWN payload={"spawn":"heartbeat","ticks":1,"x":2}', 'ERR SPAWN reason=policy detail=invalid-payload error=invalid payload']);
  deepEqual(say('spawn {"budget":{"ops":1}}'), ['OK SPAWN payload={"budget":{"ops":1}}', 'ERR SPAWN reason=policy detail=invalid-payload error=invalid payload']);
  equal(h.hive.defaultBudget().ops, 10000, 'SPAWN does not smuggle other commands into /queen/ctl');
  deepEqual(say('kill worker-7'), ['OK KILL id=worker-7', 'ERR KILL reason=policy detail=invalid-path error=invalid path']);
  const gpu = '{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":1,"ttl_s":9}}';
  deepEqual(say(`spawn ${gpu}`), [`OK SPAWN payload=${gpu}`]);
  deepEqual(say(`spawn ${gpu}`), [`OK SPAWN payload=${gpu}`, 'ERR SPAWN reason=busy detail=busy error=EBUSY']);
  const unknown = gpu.replace('GPU-0', 'GPU-4');
  deepEqual(say(`spawn ${unknown}`), [`OK SPAWN payload=${unknown}`, 'ERR SPAWN reason=policy detail=invalid-path error=invalid path']);
  deepEqual(h.hive.pressureFacts(), { busy: 1, quota: 0, cut: 0, policy: 5 });
  equal(h.client().cat('/proc/pressure/busy'), 'busy=1\n');
  deepEqual(say('kill worker-1'), ['OK KILL id=worker-1']);
  deepEqual(h.hive.workerList(), []);
});

test('console: SPAWN and KILL need a queen; a worker console gets unauthenticated and NineDoor role views on file verbs', () => {
  const h = policyHive();
  const q = uart(h);
  q('attach queen');
  q('spawn {"spawn":"heartbeat","ticks":9}');
  const ticket = h.tasks.byLabel('worker-1').args.ticket;
  const w = uart(h);
  deepEqual(w(`attach worker-heartbeat ${ticket}`), ['OK ATTACH role=worker-heartbeat']);
  deepEqual(w('spawn {"spawn":"heartbeat","ticks":9}'), ['ERR SPAWN reason=policy detail=unauthenticated']);
  deepEqual(w('ls /proc'), ['OK LS path=/proc entries=1', 'boot', 'END']);
  deepEqual(w('cat /queen/ctl'), ['ERR CAT reason=policy detail=denied path=/queen/ctl error=EPERM']);
  deepEqual(w('echo /queen/ctl {"kill":"worker-1"}'), ['ERR ECHO reason=policy detail=denied']);
  deepEqual(w('echo /worker/worker-1/telemetry {"tick":1}'), ['ERR ECHO reason=policy detail=denied'], 'console rule: workers echo only /bus, /lora');
  deepEqual(w('tail /worker/worker-1/telemetry'), ['OK TAIL path=/worker/worker-1/telemetry', 'END']);
  // Its console attachment is one of worker-1's sessions: a kill revokes it.
  q('kill worker-1');
  deepEqual(w('ls /proc'), ['ERR LS reason=cut detail=root-unreachable'], 'NineDoor Closed → cut');
});

test('console: the console attachment re-signs the verified ticket, so NineDoor applies the same claims (a scoped queen ticket)', () => {
  const h = policyHive();
  const claims = { ...baseClaims('queen', BigInt(WALL0_MS)), scopes: [{ path: '/proc', verb: 'read' as const, ratePerS: 0 }] };
  const t = mintTicket(claims, SECRETS.queen);
  ok(typeof t === 'string');
  const say = uart(h);
  deepEqual(say(`attach queen ${t}`), ['OK ATTACH role=queen']);
  deepEqual(say('cat /proc/boot'), ['OK CAT path=/proc/boot data=Cohesix boot: root-task online', 'Cohesix boot: root-task online', 'END']);
  deepEqual(say('ls /log'), ['ERR LS reason=policy detail=denied path=/log error=EPERM'], 'outside its scope (errno only over 9P)');
});

test('console: CAT /log/queen.log streams no lines; its digest prefers the echo-added operator lines', () => {
  const h = policyHive();
  const say = uart(h);
  say('attach queen');
  deepEqual(say('cat /log/queen.log'), ['OK CAT path=/log/queen.log data=lifecycle transition old=BOOTING new=ONLINE reason=boot-complete', 'END']);
  deepEqual(say('echo /log/queen.log operator was here'), ['OK ECHO path=/log/queen.log bytes=17']);
  say('spawn {"spawn":"heartbeat","ticks":9}');
  deepEqual(say('cat /log/queen.log'), ['OK CAT path=/log/queen.log data=operator was here', 'END']);
  equal(h.door.logLines().at(-2), 'operator was here');
});

test('console: a refused queen credential with no queen active sets cut_reason=policy_denied; with a queen active it does not', () => {
  const h = policyHive();
  const bad = mintTicket(baseClaims('queen', 0n), 'not-the-secret');
  ok(typeof bad === 'string');
  const a = uart(h);
  deepEqual(a(`attach queen ${bad}`), ['ERR ATTACH reason=policy detail=denied']);
  equal(h.client().cat('/proc/root/cut_reason'), 'cut_reason=policy_denied\n');
  const b = uart(h);
  deepEqual(b('attach queen'), ['OK ATTACH role=queen']);
  equal(h.hive.cutReason(), 'none');
  h.clock.advance(1000);
  const c = uart(h);
  c(`attach queen ${bad}`);
  equal(h.hive.cutReason(), 'none', 'a queen is active');
  deepEqual(h.hive.pressureFacts().policy, 2);
});

test('console: file verbs are refused with cut while no queen is attached, and pass once one is', () => {
  const h = policyHive();
  const q = uart(h);
  q('attach queen');
  q('spawn {"spawn":"heartbeat","ticks":9}');
  const w = uart(h);
  w(`attach worker ${h.tasks.byLabel('worker-1').args.ticket}`);
  deepEqual(w('ls /proc'), ['OK LS path=/proc entries=1', 'boot', 'END']);
  q('quit');
  equal(h.hive.rootReachable(), false);
  deepEqual(w('ls /proc'), ['ERR LS reason=cut detail=root-unreachable']);
  equal(h.hive.pressureFacts().cut, 1);
  q('attach queen');
  deepEqual(w('ls /proc'), ['OK LS path=/proc entries=1', 'boot', 'END']);
  h.hive.setCondition('OFFLINE', 'test');
  deepEqual(w('ls /proc'), ['ERR LS reason=cut detail=root-unreachable'], 'OFFLINE: unreachable though a queen is attached');
  equal(h.hive.cutReason(), 'lifecycle_offline');
  deepEqual(q('echo /queen/lifecycle/ctl resume'), ['ERR ECHO reason=cut detail=root-unreachable'], 'the console cannot resume OFFLINE');
  wrote(lifecycle(h, 'resume'), 6);
  deepEqual(q('ls /proc/root'), ['OK LS path=/proc/root entries=3', 'cut_reason', 'last_seen_ms', 'reachable', 'END']);
  equal(h.hive.cutReason(), 'none');
});

test('console: info verbs come from providers; help lists the verbs; a missing provider is unavailable', () => {
  const h = policyHive();
  const backends = new ConsoleBackends({
    hive: h.hive, namespace: h.ns, clock: h.clock, secrets: SECRETS, allowTicketlessQueen: true,
    info: { mem: () => ['[mem] arenas=3 used=123456'], nettest: () => new InfoRefusal('net-disabled') },
  });
  const say = uart(h, backends);
  deepEqual(say('mem'), ['[mem] arenas=3 used=123456', 'OK MEM']);
  deepEqual(say('nettest'), ['ERR NETTEST reason=policy detail=net-disabled']);
  deepEqual(say('bi'), ['ERR BOOTINFO reason=policy detail=unavailable']);
  const help = say('help');
  equal(help.at(-1), 'OK HELP');
  ok(help[0].startsWith('[help] verbs: help ping attach'));
});

test('console: content lines: UTF-8 split at newlines, binary as b64: chunks; NineDoor scope errors map to the scope rows', () => {
  deepEqual(contentLines(utf8Encode('a\nb\n')), ['a', 'b']);
  deepEqual(contentLines(new Uint8Array([0xff, 0x00])), ['b64:/wA=']);
  equal(contentLines(new Uint8Array(200).fill(0xff)).length, 3);
  equal(providerErrorOf(new NineError('Permission', 'EPERM')).code, 'scope-denied');
  equal(providerErrorOf(new NineError('TooBig', 'ELIMIT')).code, 'scope-quota');
  equal(providerErrorOf(new NineError('Permission', 'lifecycle denied action=new-work state=DRAINING reason=gate-denied')).code, 'denied');
  equal(providerErrorOf(new NineError('Busy', 'x')).code, 'busy');
});

/** A namespace whose attachments answer only when the test releases them, counting open handles. */
function heldNamespace(h: PolicyHive) {
  const held: Array<() => void> = [];
  let open = 0;
  const ns = {
    attach: (role: Parameters<PolicyHive['ns']['attach']>[0], identity: string | null, ticket: string | null) =>
      new Promise<ReturnType<PolicyHive['ns']['attach']>>((res) => held.push(() => {
        const a = h.ns.attach(role, identity, ticket);
        if (a instanceof NineError || a instanceof Promise) return res(a);
        open++;
        res({ ...a, close: () => { open--; a.close(); } });
      })) as ReturnType<PolicyHive['ns']['attach']>,
  };
  return { ns, held, open: () => open };
}

/** A TCP console session over a held namespace, its reply lines recorded; AUTH and ATTACH queen arrive in one write. */
function authAttachInOneWrite(h: PolicyHive) {
  const n = heldNamespace(h);
  const backends = new ConsoleBackends({ hive: h.hive, namespace: n.ns, clock: h.clock, secrets: SECRETS, allowTicketlessQueen: true });
  const lines: string[] = [];
  const session = new TcpConsoleSession({
    authToken: 'changeme', backend: backends.make('tcp'), guard: new AttachGuard(), nowMs: 0,
    transport: { write: (b) => lines.push(utf8Decode(b.subarray(4)) ?? '?'), close: () => {} },
  });
  session.receive(new Uint8Array([...frame('AUTH changeme'), ...frame('ATTACH queen')]), 1);
  return { n, lines, session };
}

test('console: attach then close leaks no session (issue 13 bug 1): an attachment answered after the close is given back', async () => {
  const h = policyHive();
  // AUTH and ATTACH in one write, then the peer is gone before NineDoor answers.
  const { n, lines, session } = authAttachInOneWrite(h);
  session.peerClosed();
  equal(n.held.length, 1);
  n.held[0]();
  await settle();
  equal(n.open(), 0, 'the late attachment was closed');
  equal(h.hive.rootReachable(), false, 'no queen session is left to keep the root reachable');
  deepEqual(lines, ['OK AUTH'], 'nothing is written after the close');
});

test('console: attach then close leaks no session (issue 13 bug 1): a live session gets one reply, OK only once attached', async () => {
  const h = policyHive();
  const { n, lines, session } = authAttachInOneWrite(h);
  deepEqual(lines, ['OK AUTH'], 'no OK ATTACH before NineDoor answered');
  n.held[0]();
  await settle();
  deepEqual(lines, ['OK AUTH', 'OK ATTACH role=queen']);
  equal(h.hive.rootReachable(), true);
  session.peerClosed();
  equal(n.open(), 0);
  equal(h.hive.rootReachable(), false, 'reachable drops when the last queen session ends');
});
