// The organization's runs, newest first, kept live by runUpdates (new runs appear, statuses change),
// with how many the organization has (as read, plus the runs created since).
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
    runs(first: $first) { totalCount edges { node { ...DashboardRunRow } } }
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
  const [page, setPage] = useState<{ runs: DashboardRunRowFragment[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const early: DashboardRunRowFragment[] = [];
    let loaded = false;
    // Newer than every run read: created since (an update of an older run is not a new run).
    let newestRead = '';
    const upsert = (list: { runs: DashboardRunRowFragment[]; total: number }, run: DashboardRunRowFragment) => {
      const known = list.runs.some((r) => r.id === run.id);
      const total = list.total + (!known && run.createdAt > newestRead ? 1 : 0);
      return { runs: [run, ...list.runs.filter((r) => r.id !== run.id)].sort(newestFirst), total };
    };
    // Subscribe first so that nothing between the read and the subscription is missed.
    const stop = api.subscribe(RunUpdates, {}, {
      next: ({ runUpdates }) => {
        if (!loaded) early.push(runUpdates);
        else setPage((list) => list && upsert(list, runUpdates));
      },
      error: (e) => setError(String(e)),
    });
    api.request(Runs, { first: pageSize }).then(
      (data) => {
        if (!live) return;
        loaded = true;
        let list = { runs: data.runs.edges.map((edge) => edge.node).sort(newestFirst), total: data.runs.totalCount };
        newestRead = list.runs[0]?.createdAt ?? '';
        for (const run of early) list = upsert(list, run);
        setPage(list);
      },
      (e) => live && setError(String(e)),
    );
    return () => {
      live = false;
      stop();
    };
  }, [api]);

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!page) return <p className="muted">Loading runs…</p>;
  const { runs, total } = page;
  return (
    <main className="runs">
      <h1>Runs</h1>
      {total > 0 && (
        <p className="muted" data-total-runs={total}>
          {total} run{total === 1 ? '' : 's'}{total > runs.length ? `; the newest ${runs.length} are listed` : ''}
        </p>
      )}
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
