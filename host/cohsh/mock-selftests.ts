// The self-test scripts the mock hive serves under /proc/tests (spec §4.6), written to pass against it.

export const MOCK_SELFTEST_SCRIPTS: Readonly<Record<string, string>> = {
  'selftest_negative.coh': [
    '# refusals the hive must give',
    'cat /no/such/file',
    'EXPECT ERR',
    'EXPECT SUBSTR invalid-path',
    'tail /proc/boot',
    'EXPECT ERR',
    'echo {"spawn":"nope"} > /queen/ctl',
    'EXPECT ERR',
  ].join('\n'),
  'selftest_quick.coh': [
    'ping',
    'EXPECT OK',
    'ls /',
    'EXPECT SUBSTR entries=',
    'cat /proc/boot',
    'EXPECT OK',
    'cat /proc/lifecycle/state',
    'EXPECT SUBSTR state=',
  ].join('\n'),
  'selftest_full.coh': [
    'ping',
    'EXPECT OK',
    'ls /proc',
    'EXPECT OK',
    'spawn heartbeat ticks=5',
    'EXPECT OK',
    'tail /worker/worker-1/telemetry',
    'EXPECT OK',
    'kill worker-1',
    'EXPECT OK',
    'log',
    'EXPECT OK',
  ].join('\n'),
};
