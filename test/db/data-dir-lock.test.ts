// The DATA_DIR lock: one holder at a time, in one process and across processes, and a holder killed
// with SIGKILL leaves nothing that stops the next start.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirInUseError, lockDataDir, type DataDirLock } from '../../src/db/data-dir-lock.js';

const holderScript = join(import.meta.dirname, '../helpers/hold-data-dir-lock.ts');
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'braid-lock-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'data'); // not created yet: the lock creates it
}

async function acquire(dataDir: string): Promise<DataDirLock> {
  const lock = await acquireDataDirLock(dataDir);
  cleanups.push(() => lock.release());
  return lock;
}

/** Starts the holder script as a real process; `locked` resolves once it says it holds the lock. */
function startHolder(dataDir: string, ...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, dataDir, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (settle) => child.on('close', (code, signal) => settle({ code, signal, stdout, stderr })),
  );
  const locked = new Promise<void>((settle, fail) => {
    child.stdout.on('data', () => stdout.includes('locked\n') && settle());
    void exited.then((result) => fail(new Error(`holder ended without the lock: ${JSON.stringify(result)}`)));
  });
  // Only tests that expect this holder to win await `locked`; the others watch `exited`.
  locked.catch(() => undefined);
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  return { child, locked, exited };
}

describe('acquireDataDirLock', () => {
  it('refuses a second holder in the same process, naming the directory, until the first releases', async () => {
    const dataDir = await freshDir();
    const first = await acquire(dataDir);
    expect(first.dataDir).toBe(dataDir);

    const second = acquireDataDirLock(dataDir);
    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(second).rejects.toThrow(`DATA_DIR ${dataDir} is in use by another Braid process`);

    await first.release();
    await first.release(); // idempotent
    const again = await acquire(dataDir);
    await expect(acquireDataDirLock(dataDir)).rejects.toThrow(DataDirInUseError);
    await again.release();
  });

  it('lets exactly one of many simultaneous acquirers in one process win', async () => {
    const dataDir = await freshDir();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireDataDirLock(dataDir)));
    for (const result of results) if (result.status === 'fulfilled') cleanups.push(() => result.value.release());
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected')) {
      expect(result.reason).toBeInstanceOf(DataDirInUseError);
    }
  });

  it('holds across processes, and a holder killed with SIGKILL leaves no lock behind', async () => {
    const dataDir = await freshDir();
    const holder = startHolder(dataDir);
    await holder.locked;

    await expect(acquireDataDirLock(dataDir)).rejects.toThrow(`DATA_DIR ${dataDir} is in use`);
    const second = await startHolder(dataDir).exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`DATA_DIR ${dataDir} is in use by another Braid process`);

    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    // The killed holder's socket file is still there: the next start must see through it.
    const leftover = (await readdir(join(dataDir, '.braid-lock'))).filter((name) => name.endsWith('.sock'));
    expect(leftover).toHaveLength(1);

    const lock = await acquire(dataDir);
    expect(await readdir(join(dataDir, '.braid-lock'))).toEqual([lock.socketPath!.split('/').at(-1)]);
  });

  it('lets exactly one of several processes started at once win over a stale socket', async () => {
    const dataDir = await freshDir();
    const killed = startHolder(dataDir);
    await killed.locked;
    killed.child.kill('SIGKILL');
    await killed.exited;

    const holders = Array.from({ length: 4 }, () => startHolder(dataDir));
    const outcomes = await Promise.all(
      holders.map((holder) => Promise.race([holder.locked.then(() => 'locked' as const), holder.exited])),
    );
    expect(outcomes.filter((outcome) => outcome === 'locked')).toHaveLength(1);
    for (const outcome of outcomes.filter((outcome) => outcome !== 'locked')) {
      expect(outcome).toMatchObject({ code: 1, stderr: expect.stringContaining(`DATA_DIR ${dataDir} is in use`) });
    }
    await expect(acquireDataDirLock(dataDir)).rejects.toThrow(DataDirInUseError);
  });

  it('never keeps the process alive', async () => {
    const dataDir = await freshDir();
    const holder = startHolder(dataDir, '--then-exit');
    expect(await holder.exited).toMatchObject({ code: 0, stdout: 'locked\n' });
  });

  it('works on a path too long for a Unix socket, under the temporary directory, by real path', async () => {
    const base = await freshDir();
    const dataDir = join(base, 'a-rather-long-directory-name-'.repeat(5));
    expect(Buffer.byteLength(dataDir)).toBeGreaterThan(110);

    const lock = await acquire(dataDir);
    expect(lock.socketPath!.startsWith(join(tmpdir(), 'braid-lock-'))).toBe(true);
    cleanups.unshift(() => rm(dirname(lock.socketPath!), { recursive: true, force: true }));
    const alias = join(base, '..', 'short');
    await symlink(dataDir, alias);
    cleanups.push(() => rm(alias, { force: true }));
    await expect(acquireDataDirLock(alias)).rejects.toThrow(DataDirInUseError);
    await expect(acquireDataDirLock(dataDir)).rejects.toThrow(`DATA_DIR ${dataDir} is in use`);

    await lock.release();
    await (await acquire(alias)).release();
  });
});

describe('lockDataDir', () => {
  it('gives memory:// a lock that holds nothing', async () => {
    const first = await lockDataDir('memory://');
    const second = await lockDataDir('memory://');
    expect(first.socketPath).toBeUndefined();
    await Promise.all([first.release(), second.release()]);
  });

  it('locks a real directory', async () => {
    const dataDir = await freshDir();
    const lock = await lockDataDir(dataDir);
    cleanups.push(() => lock.release());
    await expect(lockDataDir(dataDir)).rejects.toThrow(DataDirInUseError);
  });
});
