// What the server records of each run and step: a log line when a run starts (or goes on here after
// another process) and when it ends, the run counters, and each settled step's duration (read from the
// commits the store made).
import type { RunCommit } from '../engine/index.js';
import type { RunObserver } from '../runs/run-service.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** Logs and counts runs starting and ending in this process. */
export function createRunObserver(logger: Logger, metrics: Metrics): RunObserver {
  return {
    started(run) {
      metrics.runStarted();
      logger.info({ runId: run.id, workflowId: run.workflowId, workflowVersion: run.workflowVersion, status: run.status }, 'run started');
    },
    tookOver(run) {
      logger.info({ runId: run.id, workflowId: run.workflowId, workflowVersion: run.workflowVersion, status: run.status }, 'run taken over');
    },
    finished(run) {
      metrics.runFinished(run.status);
      const durationMs = run.startedAt && run.finishedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : null;
      // The run's error is stored redacted (secrets as [secret:NAME]): it is what the API answers too.
      const line = { runId: run.id, workflowId: run.workflowId, workflowVersion: run.workflowVersion, status: run.status, durationMs, error: run.error };
      if (run.status === 'FAILED') logger.warn(line, 'run finished');
      else logger.info(line, 'run finished');
    },
  };
}

/** Wraps the engine's `onCommitted`: every step that settled after running is timed, then `next` publishes. */
export function observeCommits(metrics: Metrics, next: (commit: RunCommit) => void): (commit: RunCommit) => void {
  return (commit) => {
    for (const step of commit.steps) {
      const { status, startedAt, finishedAt } = step;
      if (startedAt === null || finishedAt === null) continue;
      if (status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED') {
        metrics.nodeSettled(step.nodeType, status, (finishedAt.getTime() - startedAt.getTime()) / 1000);
      }
    }
    next(commit);
  };
}
