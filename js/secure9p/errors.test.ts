// The named-error table: unique stable names, each errno its code's default but for the exceptions spec §0 names, texts as the tests and logs see them.
import { test, equal, ok, deepEqual } from '../testkit/index.js';
import * as errors from './errors.js';
import { ERRNO_OF_ERROR, Errno, Etagwindow, Ewalknodir, NineError, refusal, type NamedError } from './errors.js';

/** The table: every export of errors.ts that is a named error, under the name it is exported as. */
function namedErrors(): NamedError<never[]>[] {
  return Object.entries(errors)
    .filter(([key, v]) => /^E[a-z]/.test(key) && typeof v === 'object' && v !== null && 'text' in v)
    .map(([, v]) => v as unknown as NamedError<never[]>);
}

/** The refusals whose errno is not their code's default, each with spec §0's reason in errors.ts. */
const ERRNO_EXCEPTIONS: Readonly<Record<string, number>> = {
  Einternal: Errno.EIO,
  Ewalknodir: Errno.ENOTDIR,
  Eunsupported: Errno.EOPNOTSUPP,
  Etagwindow: Errno.EAGAIN,
  Eattachdenied: Errno.EACCES,
};

test('named errors: each is exported under its own name, unique, starting with E as lib9p names its errors', () => {
  const table = Object.entries(errors).filter(([, v]) => typeof v === 'object' && v !== null && 'text' in v);
  ok(table.length > 20, `${table.length} named errors`);
  for (const [key, v] of table) equal((v as NamedError<never[]>).name, key, key);
  const names = namedErrors().map((e) => e.name);
  equal(names.length, table.length, 'every named error has an E name');
  equal(new Set(names).size, names.length, 'unique');
  for (const n of names) ok(/^E[a-z]+$/.test(n), n);
});

test('named errors: each errno is its code\'s default, or one of the listed exceptions', () => {
  for (const e of namedErrors()) equal(e.errno, ERRNO_EXCEPTIONS[e.name] ?? ERRNO_OF_ERROR[e.code], e.name);
  for (const name of Object.keys(ERRNO_EXCEPTIONS)) ok(namedErrors().some((e) => e.name === name), `${name} is in the table`);
});

test('named errors: refusal() is the NineError the session always sent (code, text with its detail, errno)', () => {
  deepEqual(refusal(Ewalknodir, 'boot'), new NineError('NotFound', 'boot is not a directory', Errno.ENOTDIR));
  deepEqual(refusal(Etagwindow), new NineError('Busy', 'tag window exceeded', Errno.EAGAIN));
});
