// The run's steps on one time axis: a bar per step from its first start to its end (steps that ran
// side by side overlap), waits between attempts hatched, each retry marked. Only the rows in view
// are rendered.
import { useEffect, useMemo, useState } from 'react';
import { formatMs } from './format';
import type { StepStatus } from './gql/graphql';
import type { RunEvent, RunState } from './run-data';

const rowHeight = 22;
const viewRows = 14;

interface Row {
  nodeId: string;
  status: StepStatus;
  attempt: number;
  start: number;
  end: number;
  waits: [number, number][];
  retries: number[];
}

export function Timeline(props: {
  run: RunState;
  events: RunEvent[];
  statuses: Map<string, StepStatus>;
  critical: Set<string>;
  onSelect(nodeId: string): void;
}) {
  const { run, events, statuses, critical, onSelect } = props;
  const active = run.status === 'RUNNING' || run.status === 'QUEUED';
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [active]);
  const [scrollTop, setScrollTop] = useState(0);

  const rows = useMemo(() => {
    const byNode = new Map<string, RunEvent[]>();
    for (const event of events) if (event.nodeId) byNode.set(event.nodeId, [...(byNode.get(event.nodeId) ?? []), event]);
    const list: Row[] = [];
    for (const step of run.steps) {
      const own = byNode.get(step.nodeId) ?? [];
      const started = own.find((e) => e.type === 'NODE_STARTED')?.at ?? step.startedAt;
      if (!started) continue;
      const status = statuses.get(step.nodeId) ?? step.status;
      const start = Date.parse(started);
      const end = step.finishedAt && status !== 'RUNNING' ? Date.parse(step.finishedAt) : now;
      const retries: number[] = [];
      const waits: [number, number][] = [];
      own.forEach((event, index) => {
        if (event.type !== 'NODE_RETRYING') return;
        const at = Date.parse(event.at);
        retries.push(at);
        const next = own.slice(index + 1).find((e) => e.type === 'NODE_STARTED');
        waits.push([at, next ? Date.parse(next.at) : end]);
      });
      list.push({ nodeId: step.nodeId, status, attempt: step.attempt, start, end: Math.max(end, start), waits, retries });
    }
    return list.sort((a, b) => a.start - b.start || (a.nodeId < b.nodeId ? -1 : 1));
  }, [run, events, statuses, now]);

  if (rows.length === 0) return <p className="muted">No step has started yet.</p>;
  const t0 = run.startedAt ? Math.min(Date.parse(run.startedAt), rows[0]!.start) : rows[0]!.start;
  const t1 = Math.max(run.finishedAt ? Date.parse(run.finishedAt) : now, ...rows.map((r) => r.end));
  const span = Math.max(t1 - t0, 1);
  // Kept 2px inside the track, so that a step that took no time at the very end still shows.
  const pct = (t: number) => `min(${(((t - t0) / span) * 100).toFixed(3)}%, calc(100% - 2px))`;
  const width = (a: number, b: number) => `max(2px, ${(((b - a) / span) * 100).toFixed(3)}%)`;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - 2);
  const shown = rows.slice(first, first + viewRows + 4);

  return (
    <div className="timeline">
      <div className="timeline-axis">
        <span>0</span>
        <span>{formatMs(span / 2)}</span>
        <span>{formatMs(span)}</span>
      </div>
      <div
        className="timeline-rows"
        style={{ height: Math.min(rows.length, viewRows) * rowHeight }}
        onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      >
        <div style={{ height: rows.length * rowHeight, position: 'relative' }}>
          {shown.map((row, index) => (
            <div
              key={row.nodeId}
              className="timeline-row"
              style={{ top: (first + index) * rowHeight, height: rowHeight }}
              onClick={() => onSelect(row.nodeId)}
            >
              <span className="timeline-label">{row.nodeId}</span>
              <span className="timeline-track">
                <span
                  className={`timeline-bar status-${row.status}${critical.has(row.nodeId) ? ' critical' : ''}`}
                  data-timeline-node={row.nodeId}
                  data-start={row.start - t0}
                  data-end={row.end - t0}
                  style={{ left: pct(row.start), width: width(row.start, row.end) }}
                  title={`${row.nodeId}: ${formatMs(row.end - row.start)}, attempt ${row.attempt}`}
                />
                {row.waits.map(([a, b], i) => (
                  <span key={`w${i}`} className="timeline-wait" style={{ left: pct(a), width: width(a, b) }} title="waiting to retry" />
                ))}
                {row.retries.map((at, i) => (
                  <span key={`r${i}`} className="timeline-retry" style={{ left: pct(at) }} title="retry" />
                ))}
              </span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
