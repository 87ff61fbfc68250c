// CPU time and RSS of other processes from Linux's /proc: a Braid child by pid, and PostgreSQL's
// processes serving one database (its backends plus the shared postmaster, writers and launchers).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
const msPerTick = () => 1000 / (ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100);

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state (field 3). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU time of the process (all its threads) so far, in ms (10 ms resolution). */
export function procCpuMs(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) * msPerTick();
}

/** Resident set size of the process, in bytes. */
export function procRss(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) * 1024;
}

/** One snapshot: CPU ms by pid of the PostgreSQL processes that count for `database`. */
export type PostgresCpu = Map<number, number>;

// "postgres: 15/main: <user> <database> <host>(<port>) <state>" is a client backend.
const backendTitle = /^postgres: (?:[^:]+: )?\S+ (\S+) \S+\(\d+\)/;

/**
 * CPU ms per PostgreSQL process on this machine that serves `database` (its backends) or every
 * database (postmaster, checkpointer, background and WAL writers, launchers); other databases'
 * backends (other users of the server) are left out. Empty when PostgreSQL is not local.
 */
export function postgresCpu(database: string): PostgresCpu {
  const snapshot: PostgresCpu = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') continue;
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const backend = backendTitle.exec(title);
      if (backend && backend[1] !== database) continue;
      snapshot.set(pid, procCpuMs(pid));
    } catch {
      continue; // the process ended while being read
    }
  }
  return snapshot;
}

/** CPU ms PostgreSQL spent for the database between two snapshots (of the processes alive at the second). */
export function postgresCpuBetween(before: PostgresCpu, after: PostgresCpu): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
