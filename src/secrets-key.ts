// The server's secrets key. Dev mode's, one per data directory: made once and kept in DATA_DIR/secrets-key
// (mode 0600, base64), reused by every later start so that stored secrets stay readable (with SECRETS_KEY
// set it is unused). Whichever it is, a start with a key other than the store's is refused.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { secretsKeySchema } from './config.js';
import type { Db } from './db/client.js';
import { checkSecretsKey, SecretsKeyMismatchError, takeSecretsKey } from './db/queries/secrets-key-check.js';

export const secretsKeyFileName = 'secrets-key';

/** Where a server's secrets key came from: SECRETS_KEY, dev mode's file or a new one per start; or none. */
export type SecretsKeySource = 'SECRETS_KEY' | { file: string } | 'new per start' | 'none';

/** The key file of `dataDir`; undefined for `memory://`, which keeps nothing. */
export function secretsKeyFile(dataDir: string): string | undefined {
  return dataDir.startsWith('memory://') ? undefined : join(dataDir, secretsKeyFileName);
}

/**
 * The key kept in `dataDir`, else a new one (kept there for the next start). With `memory://`, a new key
 * per start. A file that cannot be written costs only the reuse: `problem` says why. A file that exists
 * but holds no valid key throws: replacing it would make every stored secret unreadable.
 */
export async function ensureSecretsKey(dataDir: string): Promise<{ key: Buffer; created: boolean; file: string | undefined; problem?: string }> {
  const file = secretsKeyFile(dataDir);
  const kept = file ? await readSecretsKeyFile(file) : undefined;
  if (kept) {
    if (file) await chmod(file, 0o600);
    return { key: kept, created: false, file };
  }
  const key = randomBytes(32);
  if (!file) return { key, created: true, file: undefined };
  try {
    await writeSecretsKeyFile(file, key);
  } catch (error) {
    return { key, created: true, file: undefined, problem: `cannot keep the secrets key in ${file}: ${String(error)}` };
  }
  return { key, created: true, file };
}

/** The key in `file`, undefined when there is no file; throws when the file holds no valid key. */
export async function readSecretsKeyFile(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = secretsKeySchema.safeParse(text);
  if (!parsed.success) throw new Error(`${file} holds no valid secrets key (32 bytes in base64); set SECRETS_KEY or restore the file`);
  return parsed.data;
}

/** Written whole under another name, then renamed: a crash never leaves half a key. */
export async function writeSecretsKeyFile(file: string, key: Buffer): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${key.toString('base64')}\n`, { mode: 0o600 });
  await rename(temporary, file);
}

/**
 * Throws SecretsKeyMismatchError, naming where the key came from, when `key` is not the key of the
 * stored secrets: a server started with it would fail every run that uses one and store new values no
 * other server could read. A store without secrets takes `key`; so does any store when the key is new at
 * every start (nothing earlier can be read with it anyway): `replaced` then says a store's key was lost.
 */
export async function checkStartKey(db: Db, key: Buffer, source: SecretsKeySource): Promise<{ replaced: boolean }> {
  if (source === 'new per start') return { replaced: await takeSecretsKey(db, key) };
  try {
    await checkSecretsKey(db, key);
    return { replaced: false };
  } catch (error) {
    if (!(error instanceof SecretsKeyMismatchError)) throw error;
    const what = typeof source === 'object' ? `the key in ${source.file}` : 'SECRETS_KEY';
    throw new SecretsKeyMismatchError(
      `${what} is not the key the stored secrets are encrypted under: start with the key they were last rotated to (npm run secrets:rotate names it NEW_SECRETS_KEY)`,
    );
  }
}
