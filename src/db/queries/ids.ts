// Ids for the rows this API creates: a short type prefix and 128 random bits, readable in logs and URLs.
import { randomFillSync } from 'node:crypto';

// Random bytes drawn 4 KiB at a time: one getrandom call costs ~20 µs on a VM, as much as 30 ids from the pool.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** A new id such as `run_3q2n0c…`: the prefix names the kind of row. */
export function newId(prefix: 'org' | 'key' | 'wf' | 'run'): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = `${prefix}_${pool.toString('base64url', offset, offset + 16)}`;
  // Each byte is used once: the pool is refilled before any is read again.
  offset += 16;
  return id;
}

/** PostgreSQL text cannot hold U+0000: such an id names no row (and must not reach the driver). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}
