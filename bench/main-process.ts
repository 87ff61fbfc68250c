// Braid as `npm start` runs it (`node --import tsx src/main.ts`) in a child process of its own, for the
// benchmarks that kill it for real or run several on one PostgreSQL: pid, spawn and listening times,
// CPU and RSS read from /proc, SIGKILL, and SIGTERM (drain) to stop.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { procCpuMs, procRss } from './proc-usage.js';
import type { BenchServer } from './server-launch.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const listeningLine = /GraphQL at https?:\/\/[^\s/]+:(\d+)\/graphql/;
const devKeyLine = /Authorization: Bearer (\S+)/;

export interface MainProcess extends BenchServer {
  pid: number;
  /** Date.now() just before the spawn, and when the listening line arrived (same machine clock as the server's). */
  spawnedAt: number;
  listeningAt: number;
  /** Sends a signal; `exited` settles when the process is gone. */
  kill(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last MiB of its stdout and stderr. */
  output(): string;
}

/**
 * Spawns the server with `env` over a copy of this process's environment (without DATABASE_URL,
 * DATA_DIR and ADMIN_TOKEN: dev mode, its ADMIN key read from its output) and resolves once it listens.
 * With BENCH_CPU_PROF=<dir> it runs under `--cpu-prof` (written on a clean exit: SIGTERM, not SIGKILL).
 */
export async function spawnMain(env: Record<string, string>, timeoutMs = 60_000): Promise<MainProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'ADMIN_TOKEN']) delete childEnv[name];
  Object.assign(childEnv, env);
  const profileDir = process.env.BENCH_CPU_PROF;
  const args = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'src/main.ts'];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-1_048_576));
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A bench that throws must not leave a server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));

  const { port, key, listeningAt } = await new Promise<{ port: number; key: string; listeningAt: number }>((resolve, reject) => {
    let listeningAt = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      if (!listeningAt && listeningLine.test(output)) listeningAt = Date.now();
      const port = listeningLine.exec(output)?.[1];
      const key = devKeyLine.exec(output)?.[1];
      if (!port || !key) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ port: Number(port), key, listeningAt });
    };
    child.stdout.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${JSON.stringify(exit)}) before listening; output:\n${output}`));
    });
  });

  const pid = child.pid!;
  let killed = false;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    key,
    pid,
    spawnedAt,
    listeningAt,
    rss: async () => procRss(pid),
    cpuMs: async () => procCpuMs(pid),
    kill(signal) {
      if (signal === 'SIGKILL') killed = true;
      child.kill(signal);
    },
    exited,
    output: () => output,
    async stop() {
      if (killed) return void (await exited);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const exit = await exited;
      clearTimeout(timer);
      if (exit.code !== 0) throw new Error(`server ${pid} exited with ${JSON.stringify(exit)}; output:\n${output.slice(-4000)}`);
    },
  };
}
