// The secrets a run of an organization may use: read from the database and decrypted under the
// secrets key, as the run starts (to redact them from its first step) and at each request.
import type { Db } from '../db/client.js';
import { readSecretValue, readSecretValues } from '../db/queries/secrets.js';
import { SecretDecryptionError } from '../db/secret-cipher.js';
import { NonRetriableError, type RunSecrets } from '../engine/index.js';

/** The secrets of one organization for one run; `names` are those its workflow references. */
export type RunSecretsSource = (organizationId: string, names: readonly string[]) => Promise<RunSecrets>;

/** Reads secrets under the key `key()` returns (set at start in dev mode); without one, none can be read. */
export function createRunSecretsSource(db: Db, key: () => Buffer | undefined): RunSecretsSource {
  return async (organizationId, names) => {
    const at = key();
    return {
      known: at ? await readSecretValues(db, at, organizationId, names) : new Map(),
      async read(name) {
        const now = key();
        if (!now) throw new NonRetriableError(`secret ${JSON.stringify(name)} cannot be read: SECRETS_KEY is not set`);
        try {
          return await readSecretValue(db, now, organizationId, name);
        } catch (error) {
          if (!(error instanceof SecretDecryptionError)) throw error;
          throw new NonRetriableError(`secret ${JSON.stringify(name)} does not decrypt with SECRETS_KEY (was the key changed without rotating?)`);
        }
      },
    };
  };
}
