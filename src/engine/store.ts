// The engine's storage port: the engine hands over what changed; an adapter (db/, memory) keeps it.
import type { RunCommit } from './events.js';

/**
 * Where a run's transitions go. The engine calls `commit` once per run-actor step, without waiting
 * for the previous call, and publishes a commit's events only after its promise resolves.
 * An implementation must apply one run's commits in call order; it may batch several into one write.
 */
export interface RunStore {
  commit(commit: RunCommit): Promise<void>;
}
