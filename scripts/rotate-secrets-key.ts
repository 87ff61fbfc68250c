// Re-encrypts every stored secret under a new key (npm run secrets:rotate): SECRETS_KEY (or, in dev mode
// without it, DATA_DIR/secrets-key) is the old key, NEW_SECRETS_KEY the new one; DATABASE_URL/DATA_DIR as
// for the server. All or nothing; refused if any value does not decrypt with the old key.
import { ConfigError, loadConfig, secretsKeySchema } from '../src/config.js';
import { openDb } from '../src/db/client.js';
import { DataDirInUseError, lockDataDir } from '../src/db/data-dir-lock.js';
import { migrateDb } from '../src/db/migrate.js';
import { rotateSecretsKey } from '../src/db/queries/secrets.js';
import { SecretDecryptionError } from '../src/db/secret-cipher.js';
import { readSecretsKeyFile, secretsKeyFile, writeSecretsKeyFile } from '../src/secrets-key.js';

class RotationRefused extends Error {}

async function rotate(): Promise<void> {
  const config = loadConfig();
  const parsedNew = secretsKeySchema.safeParse(process.env.NEW_SECRETS_KEY?.trim() ?? '');
  if (!parsedNew.success) throw new RotationRefused('NEW_SECRETS_KEY: expected the new key, 32 bytes in base64 (e.g. `openssl rand -base64 32`)');
  const newKey = parsedNew.data;

  // The old key is where the server would take it from: SECRETS_KEY, else dev mode's file.
  const file = !config.secretsKey && !config.adminToken ? secretsKeyFile(config.dataDir) : undefined;
  const oldKey = config.secretsKey ?? (file ? await readSecretsKeyFile(file) : undefined);
  if (!oldKey) {
    throw new RotationRefused(
      file ? `SECRETS_KEY is not set and ${file} does not exist: no old key to rotate from` : 'SECRETS_KEY (the old key) is not set',
    );
  }
  if (oldKey.equals(newKey)) throw new RotationRefused('NEW_SECRETS_KEY is the key already in use');

  // PGlite: the server must not have the data directory open meanwhile.
  const lock = config.databaseUrl ? undefined : await lockDataDir(config.dataDir);
  const database = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, applicationName: 'braid:rotate-secrets-key' });
  try {
    await migrateDb(database);
    const count = await rotateSecretsKey(database.db, oldKey, newKey);
    console.log(`braid: re-encrypted ${count} secret${count === 1 ? '' : 's'} under the new key`);
  } finally {
    await database.close();
    await lock?.release();
  }
  if (file) {
    try {
      await writeSecretsKeyFile(file, newKey);
      console.log(`braid: ${file} now holds the new key`);
    } catch (error) {
      // The secrets are under the new key already: the server must be given it.
      console.error(`braid: could not write the new key to ${file} (${String(error)}); start the server with SECRETS_KEY set to NEW_SECRETS_KEY`);
      process.exitCode = 1;
    }
  } else {
    console.log('braid: start the server with SECRETS_KEY set to the new key');
  }
}

rotate().catch((error: unknown) => {
  const refused = error instanceof RotationRefused || error instanceof ConfigError || error instanceof SecretDecryptionError || error instanceof DataDirInUseError;
  console.error(`braid: rotation refused: ${refused ? (error as Error).message : String(error)}`);
  if (error instanceof DataDirInUseError) console.error('braid: stop the server using this DATA_DIR first');
  process.exit(1);
});
