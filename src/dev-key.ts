// Dev mode's ADMIN key, one per data directory: its secret is kept in DATA_DIR/dev-api-key (mode 0600)
// and reused by the next start while it is still a valid ADMIN key of the dev organization.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db/client.js';
import { ensureDevOrganization } from './db/queries/organizations.js';

export const devKeyFileName = 'dev-api-key';

/**
 * The dev organization's ADMIN key: the one kept in `dataDir` when it is still valid, else a new one
 * (kept there for the next start). With `memory://` nothing is kept: a new key per start.
 */
export async function ensureDevKey(
  db: Db,
  options: { dataDir: string; organization: string },
): Promise<{ secret: string; created: boolean; file: string | undefined }> {
  const file = options.dataDir === 'memory://' ? undefined : join(options.dataDir, devKeyFileName);
  const kept = file ? await readSecret(file) : undefined;
  const { secret, created } = await ensureDevOrganization(db, options.organization, kept);
  if (file && created) await writeSecret(options.dataDir, file, secret);
  else if (file) await chmod(file, 0o600);
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
