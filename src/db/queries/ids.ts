// Ids for the rows this API creates: a short type prefix and 128 random bits, readable in logs and URLs.
import { randomBytes } from 'node:crypto';

/** A new id such as `run_3q2n0c…`: the prefix names the kind of row. */
export function newId(prefix: 'org' | 'key' | 'wf' | 'run'): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** PostgreSQL text cannot hold U+0000: such an id names no row (and must not reach the driver). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}
