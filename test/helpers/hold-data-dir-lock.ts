// A child process for the data-dir lock tests: locks the DATA_DIR given as its argument, prints
// `locked` and holds it until stdin closes or it is killed; with `--then-exit` it lets go of nothing
// and simply ends, to show that the lock never keeps a process alive. In use: the message, exit 1.
import { acquireDataDirLock, DataDirInUseError } from '../../src/db/data-dir-lock.js';

const [dataDir, mode] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: hold-data-dir-lock.ts <dataDir> [--then-exit]');

try {
  await acquireDataDirLock(dataDir);
} catch (error) {
  if (!(error instanceof DataDirInUseError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
process.stdout.write('locked\n');
if (mode !== '--then-exit') process.stdin.resume();
