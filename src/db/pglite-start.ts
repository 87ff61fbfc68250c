// How Braid opens PGlite light: a new data directory is created (initdb) in a short-lived child process,
// and PostgreSQL's shared buffers are smaller than PGlite's default. Measured on this project's bench
// machine (idle RSS of a bare PGlite, Node and tsx included): initdb in the server's own process 815 MB,
// an existing directory 361 MB with 128 MB of shared buffers, 248 MB with 32 MB (they are resident
// from the start); `npm run bench -- footprint` measures the whole server.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';

/** PostgreSQL's shared buffers inside PGlite (its default is 128 MB, all of it resident). */
export const pgliteSharedBuffers = '32MB';

/** PGlite's start parameters with Braid's shared buffers. */
export const pgliteStartParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${pgliteSharedBuffers}`];

const initdbScript = fileURLToPath(new URL('./pglite-initdb.mjs', import.meta.url));

/** PGlite could not create its data directory. */
export class PgliteInitError extends Error {
  override name = 'PgliteInitError';
}

/**
 * Makes `dataDir` (an existing directory) a PGlite data directory unless it already is one: initdb runs
 * in a child process into a sibling directory whose entries then move into `dataDir`, `PG_VERSION` last,
 * so a start interrupted half-way is started again from scratch rather than opening a half-made
 * directory. Files already there (the dev key, the secrets key) stay.
 */
export async function ensurePgliteDataDir(dataDir: string): Promise<void> {
  const marker = 'PG_VERSION';
  if (await exists(join(dataDir, marker))) return;
  const building = `${dataDir}.initdb-${randomBytes(4).toString('hex')}`;
  try {
    await promisify(execFile)(process.execPath, [initdbScript, building], { maxBuffer: 16 * 1024 * 1024 });
    const made = (await readdir(building)).filter((name) => name !== marker);
    for (const name of made) {
      await rm(join(dataDir, name), { recursive: true, force: true });
      await rename(join(building, name), join(dataDir, name));
    }
    await rename(join(building, marker), join(dataDir, marker));
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new PgliteInitError(`could not create the PGlite data directory ${dataDir}: ${detail}`);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
