// npm run dev: its flags (on top of npm start's) and the one line it prints for each answer a push can get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEV_DEBOUNCE_MS_DEFAULT, parseDevArgs } from './args.js';
import { describePush } from './push.js';

const T = { savedAtMs: 0, rollupMs: 412.3, cohcMs: 7.61 };

test('dev args: defaults, the dev flags, and npm start flags passed through', () => {
  const d = parseDevArgs([], {}, '/src');
  assert.ok(typeof d === 'object');
  assert.deepEqual([d.root, d.only, d.debounceMs, d.attach, d.authToken, d.start.consolePort], ['/src', null, DEV_DEBOUNCE_MS_DEFAULT, null, 'changeme', 31337]);
  const o = parseDevArgs(['--root', 'tmp/x', '--only', 'worker-heart,ninedoor', '--debounce-ms', '0', '--tcp-port', '4000', '--no-bridge', '--console-port', '0'],
    { COHSH_AUTH_TOKEN: 'tok' }, '/src');
  assert.ok(typeof o === 'object');
  assert.deepEqual([o.root, o.only, o.debounceMs, o.attach, o.authToken, o.start.bridge, o.start.consolePort],
    ['/src/tmp/x', ['worker-heart', 'ninedoor'], 0, { host: '127.0.0.1', port: 4000 }, 'tok', false, 0]);
});

test('dev args: refusals name the option and its bounds', () => {
  assert.equal(parseDevArgs(['--debounce-ms', '9000'], {}, '/'), '--debounce-ms takes an integer 0..5000');
  assert.equal(parseDevArgs(['--tcp-port', '0'], {}, '/'), '--tcp-port takes an integer 1..65535');
  assert.equal(parseDevArgs(['--only', ','], {}, '/'), '--only takes task names separated by commas');
  assert.equal(parseDevArgs(['--root'], {}, '/'), '--root takes a directory');
  assert.equal(parseDevArgs(['--interval-ms', '1'], {}, '/'), '--interval-ms takes an integer 250..10000');
  assert.equal(parseDevArgs(['--what'], {}, '/'), 'unknown option --what');
  assert.equal(parseDevArgs(['--help'], {}, '/'), 'help');
});

test('dev push line: a held reload gives the swap time and save → live with its parts', () => {
  const r = describePush('worker-heart', ['OK RELOAD stage=begin target=worker-heart bytes=15604 chunk_max=168',
    'OK RELOAD stage=commit target=worker-heart tasks=1 restored=1 ms=0.52'], [], 455.4, T, 30.2);
  assert.equal(r.line, '[dev] worker-heart reloaded in 0.52 ms (save → live 455 ms; rollup 412 ms, cohc 7.61 ms, upload 30 ms)');
  assert.deepEqual([r.ok, r.swapMs], [true, 0.52]);
  const nd = describePush('ninedoor', ['OK RELOAD stage=commit target=ninedoor tasks=1 restored=0 ms=6.58'], [], 900, T, 80);
  assert.match(nd.line, /^\[dev\] ninedoor reloaded in 6\.58 ms .*, its state was not carried \(no snapshot\/restore\)$/);
  const none = describePush('worker-gpu', ['OK RELOAD stage=commit target=worker-gpu tasks=0 restored=0 ms=0.00'], [], 500, T, 20);
  assert.match(none.line, /^\[dev\] worker-gpu: no instance running; later spawns run the new code/);
});

test('dev push line: refusals say the old code runs on', () => {
  const rb = describePush('worker-heart', ['ERR RELOAD reason=policy detail=rolled-back error=restore threw: boom'], [], 1, T, 1);
  assert.equal(rb.line, '[dev] worker-heart NOT reloaded: the new code failed and was rolled back; the old code runs on: restore threw: boom');
  assert.equal(rb.ok, false);
  const root = describePush('root-task', ['ERR RELOAD reason=policy detail=not-reloadable target=root-task'], [], 1, T, 1);
  assert.match(root.line, /root-task changed, but it holds the consoles and cannot be hot-reloaded: restart/);
  const busy = describePush('ninedoor', ['ERR RELOAD reason=busy detail=reload-in-progress target=worker-heart'], [], 1, T, 1);
  assert.equal(busy.line, '[dev] ninedoor NOT reloaded; the old code runs on (ERR RELOAD reason=busy detail=reload-in-progress target=worker-heart)');
  assert.equal(describePush('x', [], ['reload: not attached'], 1, T, 1).line, '[dev] x NOT reloaded: reload: not attached');
});
