// `test` (spec §4.6): run /proc/tests/selftest_negative.coh then quick|full from the hive, and report PASS/FAIL per check as text or JSON.
import { roleDisplayName, resolveRole, words } from './checks.js';
import type { ShellContext } from './commands.js';
import { isCommand, runCommand } from './commands.js';
import { CohshError } from './errors.js';
import { SELFTEST_TIMEOUT_S_DEFAULT, SELFTEST_TIMEOUT_S_MAX } from './limits.js';
import { CommandRecord, type Sink } from './output.js';
import { formatFailure, runScript, type StepResult } from './script-run.js';
import { parseScript, ScriptSyntaxError, type Statement } from './script.js';

export interface SelftestOptions {
  mode: 'quick' | 'full';
  json: boolean;
  timeoutS: number;
  noMutate: boolean;
}

export interface SelftestCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export function parseSelftestArgs(args: readonly string[]): SelftestOptions | string {
  const o: SelftestOptions = { mode: 'quick', json: false, timeoutS: SELFTEST_TIMEOUT_S_DEFAULT, noMutate: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--mode') {
      const m = args[++i];
      if (m !== 'quick' && m !== 'full') return `test: --mode takes quick or full`;
      o.mode = m;
    } else if (a === '--json') o.json = true;
    else if (a === '--no-mutate') o.noMutate = true;
    else if (a === '--timeout') {
      const v = args[++i] ?? '';
      const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= SELFTEST_TIMEOUT_S_MAX)) return `test: --timeout takes seconds 1..${SELFTEST_TIMEOUT_S_MAX}`;
      o.timeoutS = n;
    } else return `test: unknown option ${a}`;
  }
  return o;
}

/** --no-mutate leaves out spawn/kill and worker telemetry tails. */
export function isMutating(text: string): boolean {
  const w = words(text);
  const verb = (w[0] ?? '').toLowerCase();
  if (verb === 'spawn' || verb === 'kill') return true;
  return verb === 'tail' && w.some((a) => /^(?:\/shard\/[0-9a-f]{2})?\/worker\//.test(a));
}

export async function runSelftest(base: ShellContext, args: readonly string[], sink: Sink): Promise<boolean> {
  const o = parseSelftestArgs(args);
  if (typeof o === 'string') {
    sink.error(o);
    return false;
  }
  const started = performance.now();
  const deadlineMs = started + o.timeoutS * 1000;
  const checks: SelftestCheck[] = [];
  const quiet: ShellContext = { ...base, sink: new CommandRecord(null), selftest: undefined, followSignal: undefined };

  const ping = await base.client.request('PING', 'PING', 'ack');
  checks.push({
    name: 'preflight/ping',
    ok: !(ping instanceof CohshError) && ping.ok,
    detail: ping instanceof CohshError ? ping.message : ping.acks.join(' ') || (ping.problem ?? ''),
  });

  const scripts = ['selftest_negative.coh', o.mode === 'full' ? 'selftest_full.coh' : 'selftest_quick.coh'];
  for (const name of checks[0].ok ? scripts : []) {
    const path = `/proc/tests/${name}`;
    const got = await base.client.request(`CAT ${path}`, 'CAT', 'stream');
    if (got instanceof CohshError || !got.ok) {
      const why = got instanceof CohshError ? got.message : got.acks.join(' ') || (got.problem ?? 'no answer');
      checks.push({ name: `fetch ${path}`, ok: false, detail: `this hive does not serve ${path} (${why})` });
      break;
    }
    const stmts = parseScript(got.lines.join('\n'), isCommand);
    if (stmts instanceof ScriptSyntaxError) {
      checks.push({ name: `parse ${path}`, ok: false, detail: stmts.toString() });
      break;
    }
    const exec = async (text: string): Promise<StepResult> => {
      const rec = new CommandRecord(null);
      const w = words(text);
      // The self-test runs in the shell's own attachment: attaching again as that role is a pass.
      const who = base.client.attachment();
      const role = w.length > 1 ? resolveRole(w[1]) : null;
      if ((w[0] === 'attach' || w[0] === 'login') && who !== null && role === who.role) {
        return { ok: true, response: `OK ATTACH role=${role} (already attached as ${roleDisplayName(role)})` };
      }
      const out = await runCommand({ ...quiet, sink: rec }, text);
      return { ok: out.ok, response: rec.response(), quit: out.quit };
    };
    const onStep = (s: Statement, ok: boolean, detail: string) => {
      if (s.kind === 'command') checks.push({ name: `line ${s.line}: ${s.text}`, ok, detail: `${name}: ${detail}` });
      else if (s.kind === 'expect' && !ok && checks.length > 0) {
        const last = checks[checks.length - 1];
        last.ok = false;
        last.detail = `${name}: ${s.text}: ${detail}`;
      }
    };
    const r = await runScript(stmts, {
      exec,
      sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      skip: o.noMutate ? (s) => s.kind === 'command' && isMutating(s.text) : undefined,
      onStep,
      deadlineMs,
    });
    if (!r.ok) {
      if (r.failure.reason.startsWith('timed out')) checks.push({ name: 'timeout', ok: false, detail: `over ${o.timeoutS} s: ${formatFailure(r.failure).split('\n')[0]}` });
      break;
    }
    if (r.quit) break;
  }

  const ok = checks.every((c) => c.ok);
  const elapsed = Math.round(performance.now() - started);
  if (o.json) {
    sink.line(JSON.stringify({ ok, mode: o.mode, elapsed_ms: elapsed, checks, version: '1' }));
  } else {
    sink.line(`selftest ${ok ? 'PASS' : 'FAIL'} mode=${o.mode} elapsed_ms=${elapsed}`);
    for (const c of checks) sink.line(`${c.ok ? 'PASS' : 'FAIL'} - ${c.name} (${c.detail})`);
  }
  return ok;
}
