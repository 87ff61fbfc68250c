// A run kept live for its page: the definition of its version (read once), its state (steps, edges,
// branches, timing: read again shortly after events arrive, unless the state read is final and no
// retryRun came after it) and its events from runEvents. A node's status is its latest NODE_* event
// newer than the state last read, else its stored step's.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Api } from './api';
import { graphql } from './gql';
import type { DashboardRunEventsSubscription, DashboardRunStateQuery, StepStatus } from './gql/graphql';

const RunDefinition = graphql(`
  query DashboardRunDefinition($id: ID!) {
    run(id: $id) { id definition }
  }
`);

const RunState = graphql(`
  query DashboardRunState($id: ID!) {
    run(id: $id) {
      id status error createdAt startedAt finishedAt durationMs workflowVersion retries
      workflow { id name }
      edges { source target sourceHandle state }
      steps { nodeId nodeType status attempt branch startedAt finishedAt durationMs input output error reason }
      branches { id status nodeIds startedAt finishedAt }
      timing { criticalPath criticalPathMs workMs parallelism }
    }
  }
`);

const RunEvents = graphql(`
  subscription DashboardRunEvents($runId: ID!, $afterSeq: Int) {
    runEvents(runId: $runId, afterSeq: $afterSeq) { seq type at nodeId branch status attempt error }
  }
`);

export type RunState = NonNullable<DashboardRunStateQuery['run']>;
export type RunEvent = DashboardRunEventsSubscription['runEvents'];
export type Step = RunState['steps'][number];

export interface DefinitionNode {
  id: string;
  type: string;
  position?: { x: number; y: number };
}

export interface Definition {
  nodes: DefinitionNode[];
  edges: { source: string; target: string; sourceHandle?: string | null }[];
}

const stepStatuses: ReadonlySet<string> = new Set(['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED']);
const finalStatuses: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function useRun(api: Api, runId: string) {
  const [definition, setDefinition] = useState<Definition | null>(null);
  const [state, setState] = useState<{ run: RunState; seqAt: number } | null>(null);
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const follow = useRef<() => void>(() => {});

  useEffect(() => {
    let alive = true;
    let lastSeq = 0;
    let buffer: RunEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = false;
    let readAgain = false;
    let stop: (() => void) | undefined;
    // A final state stays current until a retryRun reopens the run: while no more RUN_RETRIED events
    // arrived than the state counts retries (the replay of a finished run changes nothing).
    let finalRetries: number | null = null;
    let retried = 0;
    const current = () => finalRetries !== null && retried <= finalRetries;

    const read = async () => {
      if (current()) return;
      if (reading) return void (readAgain = true);
      reading = true;
      const seqAt = lastSeq; // the state read now holds at least every event received so far
      try {
        const data = await api.request(RunState, { id: runId });
        if (!alive) return;
        if (data.run) {
          finalRetries = finalStatuses.has(data.run.status) ? data.run.retries : null;
          setState({ run: data.run, seqAt });
        } else setMissing(true);
      } catch (caught) {
        if (alive) setError(String(caught));
      } finally {
        reading = false;
        if (readAgain) {
          readAgain = false;
          schedule();
        }
      }
    };
    // Events arrive in bursts: they are shown and the state read again at most every 100 ms.
    const schedule = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        if (buffer.length > 0) {
          const arrived = buffer;
          buffer = [];
          setEvents((list) => list.concat(arrived));
        }
        void read();
      }, 100);
    };
    const subscribe = () => {
      stop?.();
      stop = api.subscribe(RunEvents, { runId, afterSeq: lastSeq }, {
        next: ({ runEvents: event }) => {
          if (event.seq <= lastSeq) return;
          lastSeq = event.seq;
          if (event.type === 'RUN_RETRIED') retried += 1;
          buffer.push(event);
          schedule();
        },
        complete: schedule,
        error: (caught) => alive && setError(String(caught)),
      });
    };
    follow.current = () => {
      subscribe();
      schedule();
    };
    api.request(RunDefinition, { id: runId }).then(
      (data) => alive && (data.run ? setDefinition(data.run.definition as Definition) : setMissing(true)),
      (caught) => alive && setError(String(caught)),
    );
    subscribe();
    void read();
    return () => {
      alive = false;
      clearTimeout(timer);
      stop?.();
    };
  }, [api, runId]);

  const statuses = useMemo(() => {
    const map = new Map<string, StepStatus>();
    for (const step of state?.run.steps ?? []) map.set(step.nodeId, step.status);
    const seqAt = state?.seqAt ?? 0;
    for (const event of events) {
      if (event.seq > seqAt && event.nodeId && event.type.startsWith('NODE_') && stepStatuses.has(event.status)) {
        map.set(event.nodeId, event.status as StepStatus);
      }
    }
    return map;
  }, [state, events]);

  /** Follows the run again (after retryRun: it has new events to come). */
  const refollow = useCallback(() => follow.current(), []);

  return { definition, run: state?.run ?? null, events, statuses, missing, error, refollow };
}
