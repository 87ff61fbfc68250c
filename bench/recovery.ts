// `recovery`: runs interrupted mid-flight by a SIGKILL of the process driving them (each waits in an
// http call a loopback server holds), timed until each is RUNNING again: its RUN_RESUMED event stored.
// PGlite: the process restarted at once on the same DATA_DIR. PostgreSQL: a second process, alive all
// along, takes them over once their leases expire (RUN_LEASE_MS=2000). The baselines are the goals.
import { cpus, loadavg } from 'node:os';
import { benchDrivers, skippedPostgres } from './databases.js';
import { capacity, leaseMs, pgliteKills, postgresKills, type Sample } from './recovery-kills.js';
import { fmt, median, percentile, smoke, table, verdict } from './stats.js';

const goals = { listening: 1000, restartTakeOver: 3000, leaseTakeOver: leaseMs + 2000 };

/** Medians over the kills of each kill's p50, p99 and max; and the worst max. */
function summarize(samples: number[][]) {
  return {
    p50: median(samples.map((s) => percentile(s, 50))),
    p99: median(samples.map((s) => percentile(s, 99))),
    max: median(samples.map((s) => Math.max(...s))),
    worst: Math.max(...samples.map((s) => Math.max(...s))),
  };
}

type Row = (string | number)[];

function row(database: string, runs: number, measure: string, values: number[][], goal?: number): Row {
  const s = summarize(values);
  return [
    database, runs, measure, fmt(s.p50, 0), fmt(s.p99, 0), fmt(s.max, 0),
    goal ? `≤ ${goal}` : '—', goal ? `${fmt(s.max / goal, 2)}` : '', goal ? verdict(s.max <= goal) : '',
  ];
}

function singleRow(database: string, runs: number, measure: string, values: number[], goal: number): Row {
  const m = median(values);
  return [database, runs, measure, '—', '—', fmt(m, 0), `≤ ${goal}`, fmt(m / goal, 2), verdict(m <= goal)];
}

export async function benchRecovery() {
  const sizes = process.env.BENCH_RECOVERY_RUNS?.split(',').map(Number) ?? (smoke ? [10] : [100, 2000]);
  const reps = smoke ? 1 : 3;
  const rows: Row[] = [];
  const worst: string[] = [];
  const loadBefore = loadavg()[0]!;
  for (const driver of benchDrivers()) {
    const kills = driver === 'pglite' ? await pgliteKills(sizes, reps) : await postgresKills(sizes, reps);
    for (const [runs, samples] of kills) {
      const all = <K extends keyof Sample>(key: K) => samples.map((s) => s[key] as number[]);
      if (driver === 'pglite') {
        const label = 'pglite, restarted';
        rows.push(
          row(label, runs, 'SIGKILL → RUN_RESUMED', all('resumed')),
          singleRow(label, runs, 'restart: spawn → listening', samples.map((s) => s.listening!), goals.listening),
          row(label, runs, 'restart: spawn → RUN_RESUMED', all('spawnToResumed'), goals.restartTakeOver),
          row(label, runs, 'restart: listening → RUN_RESUMED', all('listeningToResumed')),
          row(label, runs, 'SIGKILL → http call sent again', all('calledAgain')),
        );
        worst.push(`pglite ${runs}: spawn → last RUN_RESUMED ${fmt(summarize(all('spawnToResumed')).worst, 0)} ms`);
      } else {
        const label = `postgres, B alive, lease ${leaseMs} ms`;
        rows.push(
          row(label, runs, 'SIGKILL of A → RUN_RESUMED by B', all('resumed'), goals.leaseTakeOver),
          row(label, runs, 'SIGKILL of A → its lease expired', all('leaseLeft')),
          row(label, runs, 'lease expired → RUN_RESUMED', all('expiryToResumed')),
          row(label, runs, 'SIGKILL of A → http call sent again', all('calledAgain')),
        );
        worst.push(`postgres ${runs}: SIGKILL → last RUN_RESUMED ${fmt(summarize(all('resumed')).worst, 0)} ms`);
      }
    }
  }
  if (!process.env.DATABASE_URL) rows.push(['postgres', '', skippedPostgres, '', '', '', '', '', '']);
  return {
    title: `recovery — runs interrupted mid-flight by SIGKILL until RUNNING again (RUN_RESUMED), median of ${reps} kills`,
    table: table(['database', 'interrupted runs', 'measure', 'p50 ms', 'p99 ms', 'max ms', 'goal ms (baseline)', 'max / goal', 'verdict'], rows),
    notes: [
      'each run is trigger → http call to a loopback server in the bench process that holds every request: the step is stored RUNNING (checked) before the kill, and a run taken over calls again.',
      'RUN_RESUMED: the `at` of the run\'s RUN_RESUMED event as stored (when the new owner restored the run, on its clock: this machine\'s), read from the database — PGlite after the new process drained and exited (SIGTERM), PostgreSQL directly while B runs; every run has exactly one, and on PostgreSQL none is still owned by A. p50/p99 over the runs of one kill, then the median over the kills (max: median of the kills\' maxima).',
      `pglite: one DATA_DIR on disk for all kills (the runs of a kill have ended before the next); the process is SIGKILLed and spawned again at once (\`node --import tsx src/main.ts\`); listening = its "GraphQL at" line. postgres: B runs throughout; for each kill a new A is started, the runs are started through A, and they have ended (on B) before the next kill; RUN_LEASE_MS=${leaseMs} on both (default 10,000), so the goal is ≤ lease + 2 s = ${goals.leaseTakeOver} ms.`,
      `RUN_CAPACITY=${capacity} on every process (default 1,000: with it a process takes only 1,000 of 2,000 runs over, the rest wait QUEUED for slots).`,
      `worst kill: ${worst.join('; ')}.`,
      `machine load (1-minute load average, ${cpus().length} cores) at the start and the end: ${fmt(loadBefore, 1)} → ${fmt(loadavg()[0]!, 1)}.`,
    ],
  };
}
