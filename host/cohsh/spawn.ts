// The `spawn` k=v builder (spec §7): heartbeat and gpu worker requests as the exact /queen/ctl JSON line.
import { checkJsonValue } from './checks.js';
import { checkError, type CohshError } from './errors.js';

const U8_MAX = 0xff;
const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;

interface KeySpec {
  max: bigint;
}

const HEARTBEAT_KEYS: Record<string, KeySpec> = {
  ticks: { max: U64_MAX },
  ttl_s: { max: U64_MAX },
  ops: { max: U64_MAX },
};
const GPU_NUMBER_KEYS: Record<string, KeySpec> = {
  mem_mb: { max: BigInt(U32_MAX) },
  streams: { max: BigInt(U8_MAX) },
  ttl_s: { max: BigInt(U32_MAX) },
  priority: { max: BigInt(U8_MAX) },
  budget_ttl_s: { max: U64_MAX },
  budget_ops: { max: U64_MAX },
};
const GPU_KEYS = new Set(['gpu_id', ...Object.keys(GPU_NUMBER_KEYS)]);

export const SPAWN_ROLES_HEARTBEAT = ['heartbeat', 'worker', 'worker-heartbeat'];
export const SPAWN_ROLES_GPU = ['gpu', 'worker-gpu'];

export const SPAWN_USAGE =
  'spawn heartbeat|worker|worker-heartbeat ticks=<n> [ttl_s=<n>] [ops=<n>]\n' +
  'spawn gpu|worker-gpu gpu_id=<id> mem_mb=<n> streams=<n> ttl_s=<n> [priority=<n>] [budget_ttl_s=<n>] [budget_ops=<n>]';

/** Decimal unsigned integer within `max`, kept as text so u64 values survive exactly. */
function number(key: string, value: string, max: bigint): string | CohshError {
  if (!/^[0-9]+$/.test(value)) return checkError(`invalid value for ${key}: ${value} (expected a decimal integer)`);
  const n = BigInt(value);
  if (n > max) return checkError(`invalid value for ${key}: ${value} (max ${max})`);
  return n.toString();
}

function parseOptions(tokens: readonly string[], known: ReadonlySet<string>): Map<string, string> | CohshError {
  const out = new Map<string, string>();
  const unknown: string[] = [];
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) return checkError(`spawn options must be key=value: ${t}`);
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    if (!known.has(key)) {
      unknown.push(key);
      continue;
    }
    if (out.has(key)) return checkError(`duplicate spawn option: ${key}`);
    out.set(key, value);
  }
  if (unknown.length > 0) return checkError(`unknown spawn options: ${unknown.join(', ')}`);
  return out;
}

/** `spawn <role> k=v...` → the JSON line for /queen/ctl; keys are lowercase and exact. */
export function buildSpawnJson(args: readonly string[]): string | CohshError {
  if (args.length === 0) return checkError(`spawn requires a role\nusage: ${SPAWN_USAGE.replace('\n', '\n       ')}`);
  const role = args[0].toLowerCase();
  const rest = args.slice(1);
  if (SPAWN_ROLES_HEARTBEAT.includes(role)) {
    const o = parseOptions(rest, new Set(Object.keys(HEARTBEAT_KEYS)));
    if (!(o instanceof Map)) return o;
    const nums = new Map<string, string>();
    for (const [k, v] of o) {
      const n = number(k, v, HEARTBEAT_KEYS[k].max);
      if (typeof n !== 'string') return n;
      nums.set(k, n);
    }
    const ticks = nums.get('ticks');
    if (ticks === undefined) return checkError('spawn heartbeat requires ticks=<n>');
    const budget: string[] = [];
    if (nums.has('ttl_s')) budget.push(`"ttl_s":${nums.get('ttl_s')}`);
    if (nums.has('ops')) budget.push(`"ops":${nums.get('ops')}`);
    return `{"spawn":"heartbeat","ticks":${ticks}${budget.length > 0 ? `,"budget":{${budget.join(',')}}` : ''}}`;
  }
  if (SPAWN_ROLES_GPU.includes(role)) {
    const o = parseOptions(rest, GPU_KEYS);
    if (!(o instanceof Map)) return o;
    const missing = ['gpu_id', 'mem_mb', 'streams', 'ttl_s'].filter((k) => !o.has(k));
    if (missing.length > 0) return checkError(`spawn gpu requires ${missing.map((k) => `${k}=`).join(' ')}`);
    const gpu = checkJsonValue('gpu_id', o.get('gpu_id') as string);
    if (typeof gpu !== 'string') return gpu;
    const nums = new Map<string, string>();
    for (const [k, v] of o) {
      if (k === 'gpu_id') continue;
      const n = number(k, v, GPU_NUMBER_KEYS[k].max);
      if (typeof n !== 'string') return n;
      nums.set(k, n);
    }
    let lease = `"gpu_id":"${gpu}","mem_mb":${nums.get('mem_mb')},"streams":${nums.get('streams')},"ttl_s":${nums.get('ttl_s')}`;
    if (nums.has('priority')) lease += `,"priority":${nums.get('priority')}`;
    const budget: string[] = [];
    if (nums.has('budget_ttl_s')) budget.push(`"ttl_s":${nums.get('budget_ttl_s')}`);
    if (nums.has('budget_ops')) budget.push(`"ops":${nums.get('budget_ops')}`);
    return `{"spawn":"gpu","lease":{${lease}}${budget.length > 0 ? `,"budget":{${budget.join(',')}}` : ''}}`;
  }
  return checkError(`unknown spawn role '${args[0]}' (heartbeat|worker|worker-heartbeat|gpu|worker-gpu)`);
}
