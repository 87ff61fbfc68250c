// One run: its version's graph live, the node and edge lists, step details on selection, the timeline,
// branches, the critical path with the run's parallelism, and cancel (running) / retry (FAILED, CANCELLED).
import { useEffect, useMemo, useState } from 'react';
import type { Api } from './api';
import { formatMs, formatTime } from './format';
import { graphql } from './gql';
import type { EdgeState } from './gql/graphql';
import { GraphView } from './graph-view';
import { preloadLayout } from './layout';
import { EdgeIndex, NodeIndex } from './node-index';
import { useRun } from './run-data';
import { StepDetails } from './step-details';
import { Timeline } from './timeline';

const CancelRun = graphql(`
  mutation DashboardCancelRun($id: ID!) {
    cancelRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }
  }
`);

const RetryRun = graphql(`
  mutation DashboardRetryRun($id: ID!) {
    retryRun(id: $id) { __typename ... on Run { id status } ... on Error { message } }
  }
`);

export function RunPage({ api, runId }: { api: Api; runId: string }) {
  const { definition, run, events, statuses, missing, error, refollow } = useRun(api, runId);
  useEffect(preloadLayout, []);
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const edgeStates = useMemo(
    () => new Map<string, EdgeState>((run?.edges ?? []).map((edge) => [`${edge.source}->${edge.target}`, edge.state])),
    [run],
  );
  const critical = useMemo(() => new Set(run?.timing?.criticalPath ?? []), [run]);

  if (missing) return <p className="error" role="alert">No run {runId} in this organization.</p>;
  if (error && !run) return <p className="error" role="alert">{error}</p>;
  if (!run || !definition) return <p className="muted">Loading run…</p>;

  async function act(kind: 'cancel' | 'retry') {
    setBusy(true);
    setActionError(null);
    try {
      const data = kind === 'cancel' ? (await api.request(CancelRun, { id: runId })).cancelRun : (await api.request(RetryRun, { id: runId })).retryRun;
      if ('message' in data) setActionError(data.message);
      refollow();
    } catch (caught) {
      setActionError(String(caught));
    } finally {
      setBusy(false);
    }
  }

  const running = run.status === 'RUNNING' || run.status === 'QUEUED';
  const retriable = run.status === 'FAILED' || run.status === 'CANCELLED';
  const step = selected ? run.steps.find((s) => s.nodeId === selected) : undefined;

  return (
    <main className="run-page" data-run-id={run.id} data-run-status={run.status}>
      <section className="run-head">
        <h1>
          {run.workflow.name} <span className="muted">v{run.workflowVersion}</span>{' '}
          <span className={`status status-${run.status}`}>{run.status}</span>
        </h1>
        <p className="muted">
          {run.id} · created {formatTime(run.createdAt)} · {formatMs(run.durationMs)}
        </p>
        {run.error && <p className="error">{run.error}</p>}
        <div className="actions">
          {running && <button type="button" name="cancel" disabled={busy} onClick={() => void act('cancel')}>Cancel run</button>}
          {retriable && <button type="button" name="retry" disabled={busy} onClick={() => void act('retry')}>Retry run</button>}
        </div>
        {actionError && <p className="error" role="alert">{actionError}</p>}
        {run.timing && (
          <p className="critical-path" data-parallelism={run.timing.parallelism}>
            Critical path: <strong>{run.timing.criticalPath.join(' → ')}</strong> ({formatMs(run.timing.criticalPathMs)}) ·
            work {formatMs(run.timing.workMs)} · parallelism <strong>{run.timing.parallelism.toFixed(2)}</strong>
          </p>
        )}
      </section>
      <div className="run-body">
        <GraphView
          definition={definition}
          edgeStates={edgeStates}
          statuses={statuses}
          critical={critical}
          selected={selected}
          onSelect={setSelected}
        />
        <aside className="side">
          <h2>Nodes</h2>
          <NodeIndex definition={definition} statuses={statuses} critical={critical} selected={selected} onSelect={setSelected} />
          <EdgeIndex definition={definition} edgeStates={edgeStates} />
        </aside>
      </div>
      {selected && <StepDetails nodeId={selected} step={step} status={statuses.get(selected) ?? 'PENDING'} events={events} />}
      <section>
        <h2>Timeline</h2>
        <Timeline run={run} events={events} statuses={statuses} critical={critical} onSelect={setSelected} />
      </section>
      <section>
        <h2>Branches</h2>
        <table className="branches">
          <thead>
            <tr><th>Branch</th><th>Status</th><th>Nodes</th><th>Started</th><th>Finished</th></tr>
          </thead>
          <tbody>
            {run.branches.map((branch) => (
              <tr key={branch.id} data-branch={branch.id} data-status={branch.status}>
                <td>{branch.id}</td>
                <td><span className={`status status-${branch.status}`}>{branch.status}</span></td>
                <td>{branch.nodeIds.join(', ')}</td>
                <td>{formatTime(branch.startedAt)}</td>
                <td>{formatTime(branch.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
