// A lock on a PGlite DATA_DIR that dies with its process: PGlite must never be opened by two processes
// at once. The lock is a listening Unix socket, which the kernel frees however the process ends, so a
// SIGKILL never leaves a lock that stops the next start (a pidfile would; containers reuse pids).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rename, unlink } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A held lock on a data directory. */
export interface DataDirLock {
  /** The directory, absolute. */
  readonly dataDir: string;
  /** The socket that holds the lock; undefined for `memory://`, which needs none. */
  readonly socketPath: string | undefined;
  /** Gives the lock up (the process's end gives it up too). Idempotent. */
  release(): Promise<void>;
}

/** Another live process holds the lock on the data directory. */
export class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
  constructor(readonly dataDir: string) {
    super(`DATA_DIR ${dataDir} is in use by another Braid process`);
  }
}

/**
 * Locks a PGlite data directory (created if missing), or throws DataDirInUseError while another live
 * process (or this one) holds it. The lock never keeps the process alive.
 *
 * How: each contender listens on a socket of its own, `<DATA_DIR>/.braid-lock/<random>.sock`, then
 * asks every other socket there whether it holds the lock. A socket that refuses the connection is
 * dead (its process died) and is removed; one that answers is alive. A contender wins only when no
 * other socket is alive; two contenders that meet both step back and retry after a random pause.
 * Random names make removing a dead socket safe: a name, once dead, never comes back to life, so a
 * slow contender can never unlink the live socket of a faster one (as it could with one fixed name).
 * A socket is listened on under a temporary name and renamed, so no name is ever visible before it
 * can answer.
 *
 * Unix socket paths are limited to 104–108 bytes: when the real path of DATA_DIR is too long, the
 * sockets live in `<os.tmpdir()>/braid-lock-<sha256 of that real path>/` instead, which then guards
 * only processes that share that temporary directory (not, say, two containers sharing a volume).
 * The sockets inside DATA_DIR make `PGlite#dumpDataDir()` fail while they exist.
 */
export async function acquireDataDirLock(dataDir: string): Promise<DataDirLock> {
  // Within one process, contenders for one directory take turns instead of meeting on the sockets:
  // eight at once could otherwise all keep stepping back until every one gave up.
  const dir = resolve(dataDir);
  const turn = (inProcess.get(dir) ?? Promise.resolve()).catch(() => {}).then(() => acquire(dir));
  inProcess.set(dir, turn);
  try {
    return await turn;
  } finally {
    if (inProcess.get(dir) === turn) inProcess.delete(dir);
  }
}

/** The acquisition under way (or last) per directory in this process. */
const inProcess = new Map<string, Promise<DataDirLock>>();

async function acquire(dir: string): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const socketDir = await socketDirectory(await realpath(dir));
  await mkdir(socketDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const own = await listenOnOwnSocket(socketDir);
    let others: Answer | 'none';
    try {
      others = await askOthers(socketDir, own.name);
    } catch (error) {
      await own.close();
      throw error;
    }
    if (others === 'none') {
      own.hold();
      return { dataDir: dir, socketPath: own.path, release: own.close };
    }
    await own.close();
    if (others === 'held' || attempt === MAX_ATTEMPTS) throw new DataDirInUseError(dir);
    await sleep(Math.random() * RETRY_PAUSE_MS * attempt);
  }
}

/** Like acquireDataDirLock, but `memory://` data dirs get a lock that holds nothing (none is needed). */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  if (dataDir.startsWith('memory://')) {
    return { dataDir, socketPath: undefined, release: async () => {} };
  }
  return acquireDataDirLock(dataDir);
}

/** What a live socket answers: its owner holds the lock, or is still deciding. */
type Answer = 'held' | 'contending';

const MAX_ATTEMPTS = 20;
const RETRY_PAUSE_MS = 20;
/** A socket that accepts but does not answer in time belongs to a live (perhaps stopped) process. */
const ANSWER_TIMEOUT_MS = 2_000;
/** The smallest limit among the systems Node runs on (macOS: 104 bytes with the final NUL). */
const MAX_SOCKET_PATH_BYTES = 103;
const SOCKET_NAME = /^[0-9a-f]{12}\.sock$/;

async function socketDirectory(realDir: string): Promise<string> {
  const inside = join(realDir, '.braid-lock');
  if (Buffer.byteLength(join(inside, 'ffffffffffff.sock')) <= MAX_SOCKET_PATH_BYTES) return inside;
  const hash = createHash('sha256').update(realDir).digest('hex').slice(0, 32);
  return join(tmpdir(), `braid-lock-${hash}`);
}

async function listenOnOwnSocket(socketDir: string) {
  const token = randomBytes(6).toString('hex');
  const name = `${token}.sock`;
  const path = join(socketDir, name);
  const staging = join(socketDir, `${token}.new`);
  let answer: Answer = 'contending';
  const server = createServer((socket) => {
    // An asker that goes away before reading the answer costs nothing: the socket is closed either way.
    socket.on('error', () => socket.destroy());
    socket.end(answer, () => socket.destroy());
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(staging, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  // A failed accept (EMFILE) only leaves one asker unanswered, who then counts the lock as held.
  server.on('error', () => undefined);
  server.unref();
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Unlink before closing, so that the name never points at a dead socket of a live process.
      await unlink(path).catch(ignoreMissing);
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    })());
  try {
    await rename(staging, path);
  } catch (error) {
    await close();
    throw error;
  }
  return { name, path, close, hold: () => (answer = 'held') };
}

/** Asks every other socket in the directory; removes the dead. 'none' when no other is alive. */
async function askOthers(socketDir: string, ownName: string): Promise<Answer | 'none'> {
  const names = (await readdir(socketDir)).filter((name) => SOCKET_NAME.test(name) && name !== ownName);
  const answers = await Promise.all(
    names.map(async (name) => {
      const answer = await ask(join(socketDir, name));
      if (answer === 'dead') await unlink(join(socketDir, name)).catch(ignoreMissing);
      return answer;
    }),
  );
  if (answers.includes('held')) return 'held';
  return answers.includes('contending') ? 'contending' : 'none';
}

function ask(path: string): Promise<Answer | 'dead'> {
  return new Promise((settle) => {
    let text = '';
    const socket = connect(path);
    socket.setEncoding('utf8');
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => {
      socket.destroy();
      settle('held');
    });
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      socket.destroy();
      settle(text === 'contending' ? 'contending' : 'held');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // Refused: nobody listens (its process died). Missing: it was just released. Anything else
      // (EACCES, EAGAIN on a full backlog) may be a live owner, so it counts as held.
      settle(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'dead' : 'held');
    });
  });
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
