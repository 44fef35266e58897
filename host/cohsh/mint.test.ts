// Ticket minting (spec §4.5, §8.3): the §8.3 vectors, per-role budgets, secret lookup order and the strict TOML subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseClaims } from '../../js/tickets/claims.js';
import { mintTicket, verifyTicket } from '../../js/tickets/token.js';
import { CohshError } from './errors.js';
import { mintClaims, mintRoleTicket, resolveSecret, secretFromToml } from './mint.js';
import { parseTomlSubset } from './toml.js';

const V_HEARTBEAT = 'cohesix-ticket-0101080800776f726b65722d31000000000000000000000000.ea7bee86230e67031e6e758fa01c00eaa9c1f0bfff4b41548424a3df0356cff9';
const V_BUS = 'cohesix-ticket-0103080b006d6f646275732d6d61696e000000000000000000000000.e9f653dd264c440296e25118f72ed5a10cd8b2141288c45139bbcef8316d98c8';
const V_QUEEN_TTL0 = 'cohesix-ticket-0100040000000000000000000000000000000000000000.e9b8bc4e26e2f06725347bdd8983fb3efc170658fc6af53cabb746bef58deddb';

test('§8.3 vectors: the minting path (claims with issued_at 0) reproduces them byte for byte', () => {
  const hb = mintClaims('worker-heartbeat', 'worker-1', 0n);
  // The vectors carry no budgets: strip the §4.5 ones to compare the encoding and MAC.
  hb.ticks = hb.ops = hb.ttlS = null;
  assert.equal(mintTicket(hb, 'worker'), V_HEARTBEAT);
  const bus = mintClaims('worker-bus', 'modbus-main', 0n);
  bus.ticks = bus.ops = bus.ttlS = null;
  assert.equal(mintTicket(bus, 'worker-bus'), V_BUS);
  const q = baseClaims('queen', 0n);
  q.ttlS = 0n;
  assert.equal(mintTicket(q, 'bootstrap'), V_QUEEN_TTL0);
});

test('§4.5 budgets: queen unbounded, worker-gpu ops 64 ttl 120, other workers ticks 1000 ops 10000 ttl 300', () => {
  const now = 1_700_000_000_123;
  const check = (role: Parameters<typeof mintRoleTicket>[0], subject: string | null, secret: string, want: [bigint | null, bigint | null, bigint | null]) => {
    const t = mintRoleTicket(role, subject, secret, now);
    assert.equal(typeof t, 'string');
    const c = verifyTicket(t as string, secret);
    assert.ok(!(c instanceof Error) && 'role' in c);
    if (!('role' in c)) return;
    assert.equal(c.role, role);
    assert.deepEqual([c.ticks, c.ops, c.ttlS], want);
    assert.equal(c.subject, subject);
    assert.equal(c.issuedAtMs, BigInt(now));
  };
  check('queen', null, 'bootstrap', [null, null, null]);
  check('worker-gpu', 'worker-2', 'worker-gpu', [null, 64n, 120n]);
  check('worker-heartbeat', 'worker-1', 'worker', [1000n, 10000n, 300n]);
  check('worker-lora', 'lora-a', 'worker-lora', [1000n, 10000n, 300n]);
  assert.equal((mintRoleTicket('worker-gpu', null, 's', now) as CohshError).message, '--mint-ticket --role worker-gpu requires --ticket-subject');
});

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cohsh-mint-'));
}

test('secret lookup: flag, then COHSH_TICKET_SECRET, then the [[tickets]] config; a missing default config says what to do', () => {
  const dir = scratch();
  const cfg = join(dir, 'root_task.toml');
  writeFileSync(cfg, '# tickets\n[tickets_meta]\nversion = 1\n\n[[tickets]]\nrole = "queen"\nsecret = "bootstrap"\n[[tickets]]\nrole = \'worker\'\nsecret = "worker" # heartbeat\n');
  assert.equal(resolveSecret({ role: 'queen', secretFlag: 'f', configFlag: cfg, env: { COHSH_TICKET_SECRET: 'e' } }), 'f');
  assert.equal(resolveSecret({ role: 'queen', secretFlag: undefined, configFlag: cfg, env: { COHSH_TICKET_SECRET: 'e' } }), 'e');
  assert.equal(resolveSecret({ role: 'queen', secretFlag: undefined, configFlag: cfg, env: {} }), 'bootstrap');
  assert.equal(resolveSecret({ role: 'worker-heartbeat', secretFlag: undefined, configFlag: undefined, env: { COHSH_TICKET_CONFIG: cfg } }), 'worker');
  assert.equal((resolveSecret({ role: 'worker-gpu', secretFlag: undefined, configFlag: cfg, env: {} }) as CohshError).message, `${cfg} has no [[tickets]] entry for role worker-gpu`);
  assert.equal((resolveSecret({ role: 'queen', secretFlag: undefined, configFlag: join(dir, 'nope.toml'), env: {} }) as CohshError).message, `ticket config ${join(dir, 'nope.toml')} not found`);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const e = resolveSecret({ role: 'queen', secretFlag: undefined, configFlag: undefined, env: {} }) as CohshError;
    assert.match(e.message, /^no ticket secret for queen: configs\/root_task\.toml does not exist here; pass --ticket-secret/);
  } finally {
    process.chdir(cwd);
  }
});

test('strict TOML subset: values, escapes and arrays parse; everything else is refused with file:line', () => {
  const doc = parseTomlSubset('a = "x\\ty\\u00e9"\nb = -1_000\nc = true\nd = [1, "two", false,]\n[t.u]\ne = \'lit\\n\'\n', 'f.toml');
  assert.ok(!(doc instanceof CohshError));
  if (doc instanceof CohshError) return;
  const root = doc.tables.get('') as Map<string, unknown>;
  assert.deepEqual([...root.entries()], [['a', 'x\tyé'], ['b', -1000n], ['c', true], ['d', [1n, 'two', false]]]);
  assert.equal(doc.tables.get('t.u')?.get('e'), 'lit\\n');
  const bad: Array<[string, string]> = [
    ['a = 1.5', "f.toml:1: unsupported value '1.5' (strings, integers, booleans and one-line arrays only)"],
    ['a = "open', 'f.toml:1: unterminated string (multi-line strings are not supported)'],
    ['a = 1\na = 2', "f.toml:2: duplicate key 'a'"],
    ['"q" = 1', `f.toml:1: bad key '"q"' (bare keys only)`],
    ['[x]\n[x]', "f.toml:2: table 'x' defined twice"],
    ['a = 1 b', "f.toml:1: unexpected text after value: 'b'"],
    ['just words', 'f.toml:1: expected key = value'],
    ['a = "\\q"', 'f.toml:1: bad escape \\q'],
    ['[[tickets]\n', 'f.toml:1: unterminated [[table]] header'],
  ];
  for (const [src, msg] of bad) assert.equal((parseTomlSubset(src, 'f.toml') as CohshError).message, msg, src);
  assert.equal((secretFromToml('[[tickets]]\nrole = "queen"\n', 'g.toml', 'queen') as CohshError).message, 'g.toml: [[tickets]] entry 1 needs string role and secret');
});
