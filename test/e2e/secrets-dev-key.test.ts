// Dev mode's secrets key (CONTRACT §11): made once and kept in DATA_DIR/secrets-key (0600), reused by the
// next start so that stored secrets stay readable; with memory:// a new one per start. And
// `npm run secrets:rotate` on that data directory: refused while the directory is locked or with a wrong
// old key; otherwise every value re-encrypted and the key file replaced by the new key.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDb, type Database } from '../../src/db/client.js';
import { lockDataDir } from '../../src/db/data-dir-lock.js';
import { migrateDb } from '../../src/db/migrate.js';
import { SecretsKeyMismatchError } from '../../src/db/queries/secrets-key-check.js';
import { readSecretValue } from '../../src/db/queries/secrets.js';
import { SecretDecryptionError } from '../../src/db/secret-cipher.js';
import { ensureSecretsKey } from '../../src/secrets-key.js';
import { buildServer, type StartedServer } from '../../src/server.js';
import { pgliteTemplate } from '../helpers/db.js';
import { postGraphql as post } from '../helpers/graphql-post.js';
import { quietLogger } from '../helpers/quiet-logger.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let file: string;
let starts = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'braid-secrets-key-'));
  file = join(dir, 'secrets-key');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface DevStart {
  url: string;
  key: string;
  started: StartedServer;
  database: Database;
  organizationId: string;
}

/** Starts dev mode on PGlite in `dir`, runs `use` against it, and stops it (closing the database). */
async function devStart<T>(use: (s: DevStart) => Promise<T>): Promise<T> {
  const template = starts++ === 0 ? { loadDataDir: await pgliteTemplate() } : {};
  const database = await openDb({ dataDir: dir, ...template });
  await migrateDb(database);
  const server = buildServer({ config: loadConfig({ PORT: '0', DATA_DIR: dir, SHUTDOWN_GRACE_MS: '0' }), database, logger: quietLogger() });
  try {
    const started = await server.start(0);
    const key = started.devApiKey!;
    const organization = await post(started.url, key, '{ organization { id } }');
    return await use({ url: started.url, key, started, database, organizationId: organization.data?.organization.id });
  } finally {
    await server.stop();
    await database.close();
  }
}

/** `npm run secrets:rotate` on `dir` with only these settings (no DATABASE_URL, ADMIN_TOKEN or SECRETS_KEY from outside). */
function rotate(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'ADMIN_TOKEN', 'SECRETS_KEY', 'NEW_SECRETS_KEY']) delete base[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rotate-secrets-key.ts'], {
    cwd: root,
    env: { ...base, DATA_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const keyInFile = async () => Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');

it('keeps the secrets key in DATA_DIR and reuses it; rotation re-encrypts under a new key and replaces the file', async () => {
  const first = await devStart(async ({ url, key, started, database, organizationId }) => {
    expect(started.secretsKey).toEqual({ file });
    const created = await post(url, key, 'mutation { createSecret(name: "DEV_TOKEN", value: "dev-value-1") { __typename } }');
    expect(created.data?.createSecret).toEqual({ __typename: 'Secret' });
    const kept = await keyInFile();
    expect(kept).toHaveLength(32);
    expect(await readSecretValue(database.db, kept, organizationId, 'DEV_TOKEN')).toBe('dev-value-1');
    return kept;
  });
  expect((await stat(file)).mode & 0o777).toBe(0o600);

  await devStart(async ({ url, key, started, database, organizationId }) => {
    expect(started.secretsKey).toEqual({ file });
    expect(await keyInFile()).toEqual(first);
    // What the first start stored decrypts with the key this start uses.
    expect(await readSecretValue(database.db, first, organizationId, 'DEV_TOKEN')).toBe('dev-value-1');
    const updated = await post(url, key, 'mutation { updateSecret(name: "DEV_TOKEN", value: "dev-value-2") { __typename } }');
    expect(updated.data?.updateSecret).toEqual({ __typename: 'Secret' });
  });

  const newKey = randomBytes(32);
  // While the data directory is in use, the command refuses and touches nothing.
  const lock = await lockDataDir(dir);
  try {
    const refused = await rotate({ NEW_SECRETS_KEY: newKey.toString('base64') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by another Braid process/);
  } finally {
    await lock.release();
  }
  // A wrong old key: refused, nothing changed.
  const wrong = await rotate({ SECRETS_KEY: randomBytes(32).toString('base64'), NEW_SECRETS_KEY: newKey.toString('base64') });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/rotation refused: the old key is not the key the stored secrets are encrypted under; nothing was changed/);
  // A new key that is not one.
  const bad = await rotate({ NEW_SECRETS_KEY: 'too-short' });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/NEW_SECRETS_KEY/);
  expect(await keyInFile()).toEqual(first);

  const rotated = await rotate({ NEW_SECRETS_KEY: newKey.toString('base64') });
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(rotated.stdout).toMatch(/re-encrypted 1 secret under the new key/);
  expect(await keyInFile()).toEqual(newKey);
  expect((await stat(file)).mode & 0o777).toBe(0o600);

  // The old key back in the file (a restored backup, say): the server refuses to start with it.
  await writeFile(file, `${first.toString('base64')}\n`, { mode: 0o600 });
  await expect(devStart(async () => undefined)).rejects.toThrow(
    new SecretsKeyMismatchError(`the key in ${file} is not the key the stored secrets are encrypted under: start with the key they were last rotated to (npm run secrets:rotate names it NEW_SECRETS_KEY)`),
  );
  await writeFile(file, `${newKey.toString('base64')}\n`, { mode: 0o600 });

  await devStart(async ({ url, key, database, organizationId }) => {
    expect(await readSecretValue(database.db, newKey, organizationId, 'DEV_TOKEN')).toBe('dev-value-2');
    await expect(readSecretValue(database.db, first, organizationId, 'DEV_TOKEN')).rejects.toThrow(SecretDecryptionError);
    // The server took the new key from the file: it stores and replaces values under it.
    const updated = await post(url, key, 'mutation { updateSecret(name: "DEV_TOKEN", value: "dev-value-3") { __typename } }');
    expect(updated.data?.updateSecret).toEqual({ __typename: 'Secret' });
    expect(await readSecretValue(database.db, newKey, organizationId, 'DEV_TOKEN')).toBe('dev-value-3');
  });
}, 120_000);

it('with memory:// keeps nothing: a new key per start', async () => {
  const [one, two] = [await ensureSecretsKey('memory://'), await ensureSecretsKey('memory://')];
  expect(one.file).toBeUndefined();
  expect(one.key).toHaveLength(32);
  expect(one.key.equals(two.key)).toBe(false);
});

it('refuses to start over a key file that holds no key, rather than replace it', async () => {
  const other = await mkdtemp(join(tmpdir(), 'braid-secrets-key-bad-'));
  try {
    await writeFile(join(other, 'secrets-key'), 'not a key\n');
    await expect(ensureSecretsKey(other)).rejects.toThrow(/holds no valid secrets key/);
    expect((await readFile(join(other, 'secrets-key'), 'utf8')).trim()).toBe('not a key');
  } finally {
    await rm(other, { recursive: true, force: true });
  }
});
