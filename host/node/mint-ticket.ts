// CLI: prints a ticket minted with the spec §8.3 dev secrets (harness and operators on dev hives).
import { parseArgs } from 'node:util';
import { TicketError } from '../../js/tickets/errors.js';
import { mintDevTicket, parseScopeArg } from './dev-tickets.js';

const USAGE = 'usage: mint-ticket --role ROLE [--subject ID] [--ttl-s N] [--ops N] [--issued-ms N] [--secret S] [--scope PATH:VERB:RATE]...\n';

function main(): number {
  let v;
  try {
    v = parseArgs({
      options: {
        role: { type: 'string' },
        subject: { type: 'string' },
        'ttl-s': { type: 'string' },
        ops: { type: 'string' },
        'issued-ms': { type: 'string' },
        secret: { type: 'string' },
        scope: { type: 'string', multiple: true },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`mint-ticket: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (v.role === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const big = (s: string | undefined) => (s === undefined ? null : BigInt(s));
  const scopes = (v.scope ?? []).map(parseScopeArg);
  const badScope = scopes.find((s) => s instanceof TicketError);
  if (badScope instanceof TicketError) {
    process.stderr.write(`mint-ticket: ${badScope.message}\n${USAGE}`);
    return 2;
  }
  const t = mintDevTicket({
    role: v.role, subject: v.subject ?? null, ttlS: big(v['ttl-s']), ops: big(v.ops),
    issuedAtMs: big(v['issued-ms']) ?? BigInt(Date.now()), secret: v.secret, scopes: scopes as Exclude<(typeof scopes)[number], TicketError>[],
  });
  if (t instanceof TicketError) {
    process.stderr.write(`mint-ticket: ${t.message}\n`);
    return 1;
  }
  process.stdout.write(`${t}\n`);
  return 0;
}

process.exitCode = main();
