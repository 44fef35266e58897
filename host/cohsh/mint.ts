// Ticket minting (spec §4.5): per-role budgets, the role secret from --ticket-secret, COHSH_TICKET_SECRET or the [[tickets]] TOML, and the token.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { baseClaims, type TicketClaims, type TicketRole } from '../../js/tickets/claims.js';
import { TicketError } from '../../js/tickets/errors.js';
import { mintTicket } from '../../js/tickets/token.js';
import { CohshError } from './errors.js';
import { TICKET_CONFIG_BYTES_MAX } from './limits.js';
import { parse as parseToml, TomlError } from 'smol-toml';

/** Where the reference keeps the manifest TOML with [[tickets]] (spec §4.1). */
export const DEFAULT_TICKET_CONFIG = 'configs/root_task.toml';

interface Budget {
  ticks?: bigint;
  ops?: bigint;
  ttlS?: bigint;
}

/** §4.5: queen unbounded; worker-gpu {ops 64, ttl 120 s}; other workers {ticks 1000, ops 10000, ttl 300 s}. */
export const MINT_BUDGETS: Readonly<Record<TicketRole, Budget>> = {
  queen: {},
  'worker-gpu': { ops: 64n, ttlS: 120n },
  'worker-heartbeat': { ticks: 1000n, ops: 10_000n, ttlS: 300n },
  'worker-bus': { ticks: 1000n, ops: 10_000n, ttlS: 300n },
  'worker-lora': { ticks: 1000n, ops: 10_000n, ttlS: 300n },
};

export function mintClaims(role: TicketRole, subject: string | null, issuedAtMs: bigint): TicketClaims {
  const c = baseClaims(role, issuedAtMs);
  const b = MINT_BUDGETS[role];
  c.ticks = b.ticks ?? null;
  c.ops = b.ops ?? null;
  c.ttlS = b.ttlS ?? null;
  c.subject = subject;
  return c;
}

/** Worker tickets name their worker: a runtime failure (exit 1), as the reference cohsh has it, not a usage error. */
export function subjectRequired(role: TicketRole, subject: string | null): CohshError | null {
  return role !== 'queen' && (subject === null || subject === '') ? new CohshError('ticket', `--mint-ticket --role ${role} requires --ticket-subject`) : null;
}

export function mintRoleTicket(role: TicketRole, subject: string | null, secret: string, nowMs: number): string | CohshError {
  const missing = subjectRequired(role, subject);
  if (missing !== null) return missing;
  const t = mintTicket(mintClaims(role, subject, BigInt(Math.floor(nowMs))), secret);
  return t instanceof TicketError ? new CohshError('ticket', t.message) : t;
}

/** The whole config as TOML 1.0 (smol-toml): a ticket config is usually a full root-task manifest. */
export function parseTicketConfig(text: string, file: string): Record<string, unknown> | CohshError {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) return new CohshError('ticket', `${file}:${e.line}:${e.column}: ${e.message.split('\n')[0]}`);
    return new CohshError('ticket', `${file}: ${String(e)}`);
  }
}

/** The secret of `role` in a config's [[tickets]] entries. */
export function secretFromToml(text: string, file: string, role: TicketRole): string | null | CohshError {
  const doc = parseTicketConfig(text, file);
  if (doc instanceof CohshError) return doc;
  const entries = doc.tickets ?? [];
  if (!Array.isArray(entries)) return new CohshError('ticket', `${file}: tickets must be an array of tables ([[tickets]])`);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Record<string, unknown>;
    const r = e?.role;
    const s = e?.secret;
    if (typeof r !== 'string' || typeof s !== 'string') return new CohshError('ticket', `${file}: [[tickets]] entry ${i + 1} needs string role and secret`);
    const label = r.toLowerCase() === 'worker' ? 'worker-heartbeat' : r.toLowerCase();
    if (label === role) return s;
  }
  return null;
}

export interface SecretSources {
  role: TicketRole;
  secretFlag: string | undefined;
  configFlag: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** --ticket-secret, then COHSH_TICKET_SECRET, then the config (--ticket-config, COHSH_TICKET_CONFIG, the default path). */
export function resolveSecret(src: SecretSources): string | CohshError {
  if (src.secretFlag !== undefined && src.secretFlag !== '') return src.secretFlag;
  const envSecret = src.env.COHSH_TICKET_SECRET;
  if (envSecret !== undefined && envSecret !== '') return envSecret;
  const explicit = src.configFlag ?? src.env.COHSH_TICKET_CONFIG;
  const file = explicit ?? DEFAULT_TICKET_CONFIG;
  if (!existsSync(file)) {
    if (explicit !== undefined) return new CohshError('ticket', `ticket config ${file} not found`);
    return new CohshError('ticket', `no ticket secret for ${src.role}: ${DEFAULT_TICKET_CONFIG} does not exist here; pass --ticket-secret <s>, set COHSH_TICKET_SECRET, or point --ticket-config at a TOML with [[tickets]] role/secret`);
  }
  if (statSync(file).size > TICKET_CONFIG_BYTES_MAX) return new CohshError('ticket', `ticket config ${file} is over ${TICKET_CONFIG_BYTES_MAX} bytes`);
  const s = secretFromToml(readFileSync(file, 'utf8'), file, src.role);
  if (s instanceof CohshError) return s;
  if (s === null) return new CohshError('ticket', `${file} has no [[tickets]] entry for role ${src.role}`);
  return s;
}
