// Dev mode's ADMIN key, one per data directory: its secret is kept in DATA_DIR/dev-api-key (mode 0600)
// and reused by the next start while it is still a valid ADMIN key of the dev organization.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db/client.js';
import { ensureDevOrganization } from './db/queries/organizations.js';

export const devKeyFileName = 'dev-api-key';

/**
 * The dev organization's ADMIN key: the one kept in `dataDir` when it is still valid, else a new one
 * (kept there for the next start). With `memory://` nothing is kept: a new key per start. A file that
 * cannot be read or written only costs the reuse: `problem` says why, and the key works all the same.
 */
export async function ensureDevKey(
  db: Db,
  options: { dataDir: string; organization: string },
): Promise<{ secret: string; created: boolean; file: string | undefined; problem?: string }> {
  const file = options.dataDir === 'memory://' ? undefined : join(options.dataDir, devKeyFileName);
  let kept: string | undefined;
  try {
    kept = file ? await readSecret(file) : undefined;
  } catch (error) {
    const { secret, created } = await ensureDevOrganization(db, options.organization);
    return { secret, created, file: undefined, problem: `cannot read ${file}: ${String(error)}` };
  }
  const { secret, created } = await ensureDevOrganization(db, options.organization, kept);
  try {
    if (file && created) await writeSecret(options.dataDir, file, secret);
    else if (file) await chmod(file, 0o600);
  } catch (error) {
    return { secret, created, file: undefined, problem: `cannot keep the dev key in ${file}: ${String(error)}` };
  }
  return { secret, created, file };
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written whole under another name, then renamed: a crash never leaves half a key. */
async function writeSecret(dir: string, file: string, secret: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${secret}\n`, { mode: 0o600 });
  await rename(temporary, file);
}
