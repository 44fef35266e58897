// The spec's mock GPUs and models (spec §11.1, §11.3) as a discovery result, for --mock and the tests.
import type { Discovery } from './discovery.js';

/** Mock driver and CUDA runtime versions (spec §11.1). */
export const MOCK_DRIVER_VERSION = '555.0';
export const MOCK_RUNTIME_VERSION = '12.4';

/** Mock models (spec §11.3); the last is active. */
export const MOCK_MODELS: readonly { id: string; manifest: string }[] = [
  { id: 'vision-base-v1', manifest: 'id = "vision-base-v1"\nkind = "base"\nformat = "mock"\n' },
  { id: 'vision-lora-edge', manifest: 'id = "vision-lora-edge"\nkind = "lora"\nbase = "vision-base-v1"\nformat = "mock"\n' },
];
export const MOCK_ACTIVE_MODEL = 'vision-lora-edge';

/** GPU-0 "Mock 4090" and GPU-1 "Mock 4060"; readings start idle. `count` > 2 adds more (bench: 16). */
export function mockDiscovery(count = 2): Discovery {
  const base = [
    { name: 'Mock 4090', memoryMb: 24576, smCount: 144 },
    { name: 'Mock 4060', memoryMb: 8192, smCount: 64 },
  ];
  const gpus = [];
  for (let i = 0; i < count; i++) {
    const b = base[i % base.length];
    gpus.push({
      id: `GPU-${i}`, index: i, uuid: `MOCK-${i}`, name: b.name, memoryMb: b.memoryMb, smCount: b.smCount,
      driverVersion: MOCK_DRIVER_VERSION, runtimeVersion: MOCK_RUNTIME_VERSION,
      reading: { memoryUsedMb: 0, utilizationPct: 0, temperatureC: null, powerW: null },
    });
  }
  return { source: 'mock', gpus, models: MOCK_MODELS.map((m) => ({ ...m })), active: MOCK_ACTIVE_MODEL };
}
