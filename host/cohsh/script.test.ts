// .coh scripts (spec §4.4): every syntax rule, EXPECT semantics, the tolerated-ERR rule, WAIT, quit, msize overflow and the failure text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCommand } from './commands.js';
import { formatFailure, msizeOverflowLine, runScript, type StepResult } from './script-run.js';
import { checkExpect, parseScript, ScriptSyntaxError, type Statement } from './script.js';

function parse(src: string): Statement[] {
  const s = parseScript(src, isCommand);
  if (s instanceof ScriptSyntaxError) throw new Error(s.toString());
  return s;
}

function syntax(src: string): string {
  const s = parseScript(src, isCommand);
  assert.ok(s instanceof ScriptSyntaxError, `expected a syntax error for ${JSON.stringify(src)}`);
  return s.toString();
}

/** Runs a script against canned responses, keyed by command text. */
async function runCanned(src: string, answers: Record<string, StepResult>) {
  const ran: string[] = [];
  const slept: number[] = [];
  const r = await runScript(parse(src), {
    exec: async (text) => {
      ran.push(text);
      return answers[text] ?? { ok: true, response: `OK ${text.split(' ')[0].toUpperCase()}` };
    },
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { r, ran, slept };
}

test('comments after the first #, blank lines, statement kinds and line numbers', () => {
  const s = parse('# header\n\nping   # trailing\n  EXPECT OK\nWAIT 10\necho a > /x # comment\nEXPECT SUBSTR bytes=1 here\nEXPECT NOT ERR\n');
  assert.deepEqual(s.map((x) => [x.kind, x.line, x.text]), [
    ['command', 3, 'ping'],
    ['expect', 4, 'EXPECT OK'],
    ['wait', 5, 'WAIT 10'],
    ['command', 6, 'echo a > /x'],
    ['expect', 7, 'EXPECT SUBSTR bytes=1 here'],
    ['expect', 8, 'EXPECT NOT ERR'],
  ]);
  assert.equal((s[4] as { arg: string }).arg, 'bytes=1 here');
});

test('expect_before_first_command is a syntax error (a WAIT is not a command)', () => {
  assert.equal(syntax('EXPECT OK\nping'), 'script syntax error at line 1: EXPECT before the first command');
  assert.equal(syntax('WAIT 1\nEXPECT OK'), 'script syntax error at line 2: EXPECT before the first command');
});

test('wait bounds 0..2000 ms and EXPECT forms are checked', () => {
  assert.equal(parse('WAIT 0\nWAIT 2000').length, 2);
  assert.equal(syntax('WAIT 2001'), 'script syntax error at line 1: WAIT takes milliseconds 0..2000');
  assert.equal(syntax('WAIT -1'), 'script syntax error at line 1: WAIT takes milliseconds 0..2000');
  assert.equal(syntax('WAIT'), 'script syntax error at line 1: WAIT takes milliseconds 0..2000');
  assert.equal(syntax('ping\nEXPECT MAYBE'), "script syntax error at line 2: unknown EXPECT form 'MAYBE' (OK, ERR, SUBSTR <text>, NOT <text>)");
  assert.equal(syntax('ping\nEXPECT SUBSTR'), 'script syntax error at line 2: EXPECT SUBSTR requires text');
  assert.equal(syntax('ping\nEXPECT OK please'), 'script syntax error at line 2: EXPECT OK takes no argument');
  assert.equal(syntax('pingg'), "script syntax error at line 1: unknown command 'pingg'");
});

test('more_than_256_statements is a syntax error at statement 257', () => {
  assert.equal(parse('ping\n'.repeat(256)).length, 256);
  assert.equal(syntax('# c\n' + 'ping\n'.repeat(257)), 'script syntax error at line 258: more than 256 statements');
});

test('EXPECT tests: OK/ERR test the prefix, SUBSTR/NOT are case-sensitive', () => {
  assert.equal(checkExpect('OK', '', 'OK LS path=/'), null);
  assert.equal(checkExpect('OK', '', 'ERR LS'), 'response does not start with OK');
  assert.equal(checkExpect('ERR', '', 'ERR LS'), null);
  assert.equal(checkExpect('ERR', '', null), 'response does not start with ERR');
  assert.equal(checkExpect('SUBSTR', 'entries=', 'OK LS entries=3'), null);
  assert.equal(checkExpect('SUBSTR', 'Entries=', 'OK LS entries=3'), "response does not contain 'Entries='");
  assert.equal(checkExpect('NOT', 'denied', 'OK ECHO'), null);
  assert.equal(checkExpect('NOT', 'denied', 'ERR ECHO detail=denied'), "response contains 'denied'");
});

test('a failing command stops the run with the four-line failure text', async () => {
  const { r, ran } = await runCanned('ping\ncat /x\nping', { 'cat /x': { ok: false, response: 'ERR CAT reason=policy detail=invalid-path' } });
  assert.deepEqual(ran, ['ping', 'cat /x']);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(
    formatFailure(r.failure),
    'script failure at line 2: cat /x\nreason: command failed\nlast command: cat /x\nlast response: ERR CAT reason=policy detail=invalid-path',
  );
});

test('tolerated_err: an ERR response is tolerated only when the next statement is an EXPECT', async () => {
  const err = { 'cat /x': { ok: false, response: 'ERR CAT reason=policy detail=invalid-path' } };
  assert.equal((await runCanned('cat /x\nEXPECT ERR\nping', err)).r.ok, true);
  const wrong = await runCanned('cat /x\nEXPECT OK', err);
  assert.equal(wrong.r.ok, false);
  if (!wrong.r.ok) assert.equal(wrong.r.failure.reason, 'response does not start with OK');
  // A WAIT in between means the next statement is not an EXPECT.
  assert.equal((await runCanned('cat /x\nWAIT 1\nEXPECT ERR', err)).r.ok, false);
  // A client-side refusal does not start with ERR: not tolerated even before an EXPECT.
  const local = await runCanned('ping\nEXPECT OK', { ping: { ok: false, response: 'ping: not attached' } });
  assert.equal(local.r.ok, false);
  if (!local.r.ok) assert.equal(local.r.failure.line, 1);
});

test('response line: EXPECT sees the most recent command response; no response fails OK', async () => {
  const r = await runCanned('ls /\nEXPECT SUBSTR entries=2\nhelp\nEXPECT OK', {
    'ls /': { ok: true, response: 'OK LS path=/ entries=2' },
    help: { ok: true, response: null },
  });
  assert.equal(r.r.ok, false);
  if (!r.r.ok) {
    assert.equal(r.r.failure.line, 4);
    assert.equal(formatFailure(r.r.failure).split('\n')[3], 'last response: (none)');
  }
});

test('WAIT sleeps locally; quit ends the run successfully and skips the rest', async () => {
  const { r, ran, slept } = await runCanned('ping\nWAIT 5\nquit\ncat /never', { quit: { ok: true, response: 'closing session', quit: true } });
  assert.deepEqual(r, { ok: true, quit: true });
  assert.deepEqual(ran, ['ping', 'quit']);
  assert.deepEqual(slept, [5]);
});

test('{{msize_overflow}} becomes a queen-ctl JSON line over 8192 bytes', async () => {
  const { ran } = await runCanned('echo {{msize_overflow}} > /queen/ctl\nEXPECT ERR', { });
  const line = msizeOverflowLine();
  assert.ok(line.length > 8192);
  assert.ok(JSON.parse(line).spawn === 'heartbeat');
  assert.equal(ran[0], `echo ${line} > /queen/ctl`);
});
