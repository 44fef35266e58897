// The npm start launcher's flags and environment: defaults, ports, bounds, usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartArgs } from './start.js';

test('start args: defaults are console 31337, Secure9P 5640, bridge every 1000 ms, UART off, build/hive.log', () => {
  const o = parseStartArgs([], {});
  assert.ok(typeof o === 'object');
  assert.equal(o.consolePort, 31337);
  assert.equal(o.ninepPort, 5640);
  assert.equal(o.intervalMs, 1000);
  assert.equal(o.uart, 'none');
  assert.equal(o.bridge, true);
  assert.ok(o.log.endsWith('/build/hive.log'));
});

test('start args: environment, then flags', () => {
  const o = parseStartArgs(['--interval-ms', '250', '--no-bridge', '--uart', 'pty', '--9p-port', '0', '--log', '/tmp/x.log'], { COHESIX_CONSOLE_PORT: '0' });
  assert.ok(typeof o === 'object');
  assert.deepEqual([o.consolePort, o.ninepPort, o.intervalMs, o.bridge, o.uart, o.log], [0, 0, 250, false, 'pty', '/tmp/x.log']);
  const f = parseStartArgs(['--console-port', '4000'], { COHESIX_CONSOLE_PORT: '5000' });
  assert.ok(typeof f === 'object' && f.consolePort === 4000, 'a flag beats the environment');
});

test('start args: refusals name the option and its bounds; --help', () => {
  assert.equal(parseStartArgs(['--interval-ms', '10'], {}), '--interval-ms takes an integer 250..10000');
  assert.equal(parseStartArgs(['--console-port', 'x'], {}), '--console-port takes an integer 0..65535');
  assert.equal(parseStartArgs(['--console-port'], {}), '--console-port takes an integer 0..65535');
  assert.equal(parseStartArgs([], { COHESIX_CONSOLE_PORT: '70000' }), 'COHESIX_CONSOLE_PORT takes an integer 0..65535');
  assert.equal(parseStartArgs(['--uart', 'stdio'], {}), '--uart takes none or pty');
  assert.equal(parseStartArgs(['--log'], {}), '--log takes a file');
  assert.equal(parseStartArgs(['--what'], {}), 'unknown option --what');
  assert.equal(parseStartArgs(['--help'], {}), 'help');
});
