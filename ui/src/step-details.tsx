// The selected node's step: status, attempts, branch, times, input, output, error and reason, and the
// events of its attempts.
import { formatJson, formatMs, formatTime } from './format';
import type { StepStatus } from './gql/graphql';
import type { RunEvent, Step } from './run-data';

export function StepDetails({ nodeId, step, status, events }: { nodeId: string; step: Step | undefined; status: StepStatus; events: RunEvent[] }) {
  const own = events.filter((event) => event.nodeId === nodeId);
  return (
    <section className="step-details" data-step={nodeId}>
      <h2>
        Step {nodeId} <span className={`status status-${status}`}>{status}</span>
      </h2>
      {!step ? (
        <p className="muted">Not started.</p>
      ) : (
        <>
          <dl>
            <dt>Type</dt><dd>{step.nodeType}</dd>
            <dt>Attempt</dt><dd data-field="attempt">{step.attempt}</dd>
            <dt>Branch</dt><dd>{step.branch ?? '—'}</dd>
            <dt>Started</dt><dd>{formatTime(step.startedAt)}</dd>
            <dt>Finished</dt><dd>{formatTime(step.finishedAt)}</dd>
            <dt>Duration</dt><dd>{formatMs(step.durationMs)}</dd>
            {step.reason && (<><dt>Reason</dt><dd data-field="reason">{step.reason}</dd></>)}
            {step.error && (<><dt>Error</dt><dd data-field="error" className="error">{step.error}</dd></>)}
          </dl>
          <div className="io">
            <div><h3>Input</h3><pre data-field="input">{formatJson(step.input)}</pre></div>
            <div><h3>Output</h3><pre data-field="output">{formatJson(step.output)}</pre></div>
          </div>
        </>
      )}
      {own.length > 0 && (
        <ol className="attempts">
          {own.map((event) => (
            <li key={event.seq}>
              {formatTime(event.at)} {event.type}
              {event.attempt ? ` (attempt ${event.attempt})` : ''}
              {event.error ? `: ${event.error}` : ''}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
