// `npm run example -- <name>` as a newcomer runs it: one command prints a run's dashboard address, the
// run it names succeeds through the API, and an unknown name gets one line listing the known ones.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';

const children: ChildProcess[] = [];

/** The example command, as `npm run example` runs it (node with tsx), with its output collected. */
function example(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/example.ts', ...args], {
    // An in-process server on a free port in dev mode, whatever the environment of the test run says.
    env: { ...process.env, PORT: '', DATA_DIR: '', ADMIN_TOKEN: '', BRAID_URL: '', LOG_LEVEL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async line(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stdout);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no line matching ${pattern} (exit ${child.exitCode}):\n${stdout}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm run example', () => {
  it('runs fan-out: prints the run page, and the run succeeds through the API', async () => {
    const run = example(['fan-out']);
    const [url, base, runId] = await run.line(/(http:\/\/127\.0\.0\.1:\d+)\/ui\/runs\/(\S+)/);
    const key = (await run.line(/Authorization: Bearer (\S+?)\)/))[1]!;
    // The page is served (the dashboard's HTML; its data comes from the API below).
    expect((await fetch(url!)).status).toBe(200);
    let status = '';
    let output: unknown;
    for (let i = 0; i < 600 && !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: 'query ($id: ID!) { run(id: $id) { status output } }', variables: { id: runId } }),
      });
      const body = (await response.json()) as { data: { run: { status: string; output: unknown } | null } };
      expect(body.data.run).not.toBeNull();
      ({ status, output } = body.data.run!);
    }
    expect(status).toBe('SUCCEEDED');
    // The http nodes reached the service the command started.
    expect(output).toEqual({ summary: { tags: ['fast', 'medium', 'slow'] } });
    await run.line(/SUCCEEDED in \d+ ms/);
    // Still serving after the run: Ctrl-C stops it, cleanly.
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  }, 180_000);

  it('names the known examples, in one line, for an unknown one', async () => {
    const run = example(['no-such-example']);
    expect(await run.exited).toBe(1);
    const { stdout, stderr } = run.output();
    const known = (await readdir('examples')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    expect(known).toContain('fan-out');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('unknown example "no-such-example"');
    for (const name of known) expect(stderr).toContain(name);
    expect(stdout).toBe('');
  }, 60_000);
});
