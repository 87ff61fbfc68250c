// The organization's runs, newest first, kept live by runUpdates (new runs appear, statuses change).
import { useEffect, useState } from 'react';
import type { Api } from './api';
import { graphql } from './gql';
import type { DashboardRunRowFragment } from './gql/graphql';
import { linkClick, runPath } from './router';
import { formatMs, formatTime } from './format';

graphql(`
  fragment DashboardRunRow on Run {
    id status createdAt startedAt finishedAt durationMs error workflowVersion
    workflow { id name }
  }
`);

const Runs = graphql(`
  query DashboardRuns($first: Int) {
    runs(first: $first) { edges { node { ...DashboardRunRow } } }
  }
`);

const RunUpdates = graphql(`
  subscription DashboardRunUpdates {
    runUpdates { ...DashboardRunRow }
  }
`);

const pageSize = 100;

const newestFirst = (a: DashboardRunRowFragment, b: DashboardRunRowFragment) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

export function RunsList({ api }: { api: Api }) {
  const [runs, setRuns] = useState<DashboardRunRowFragment[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const early: DashboardRunRowFragment[] = [];
    let loaded = false;
    const upsert = (list: DashboardRunRowFragment[], run: DashboardRunRowFragment) =>
      [run, ...list.filter((r) => r.id !== run.id)].sort(newestFirst);
    // Subscribe first so that nothing between the read and the subscription is missed.
    const stop = api.subscribe(RunUpdates, {}, {
      next: ({ runUpdates }) => {
        if (!loaded) early.push(runUpdates);
        else setRuns((list) => upsert(list ?? [], runUpdates));
      },
      error: (e) => setError(String(e)),
    });
    api.request(Runs, { first: pageSize }).then(
      (data) => {
        if (!live) return;
        loaded = true;
        let list = data.runs.edges.map((edge) => edge.node);
        for (const run of early) list = upsert(list, run);
        setRuns(list.sort(newestFirst));
      },
      (e) => live && setError(String(e)),
    );
    return () => {
      live = false;
      stop();
    };
  }, [api]);

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!runs) return <p className="muted">Loading runs…</p>;
  return (
    <main className="runs">
      <h1>Runs</h1>
      {runs.length === 0 ? (
        <p className="muted">No runs yet: start one with the startRun mutation (GraphiQL).</p>
      ) : (
        <table className="runs-table">
          <thead>
            <tr><th>Run</th><th>Workflow</th><th>Status</th><th>Created</th><th>Duration</th></tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id} data-run-id={run.id} data-status={run.status}>
                <td><a href={runPath(run.id)} onClick={linkClick(runPath(run.id))}>{run.id}</a></td>
                <td>{run.workflow.name} <span className="muted">v{run.workflowVersion}</span></td>
                <td><span className={`status status-${run.status}`}>{run.status}</span></td>
                <td>{formatTime(run.createdAt)}</td>
                <td>{formatMs(run.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
