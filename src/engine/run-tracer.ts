// The engine's tracing port: a span per run and one per node attempt, children of the run's. The
// engine asks for them only when a tracer was given; without one, no span and no allocation is made.

/** Starts run spans (OpenTelemetry behind it in the server). */
export interface RunTracer {
  /** A run starts (or goes on) in this engine. */
  startRun(runId: string): RunSpan;
}

export interface RunSpan {
  /** An attempt of a node starts: a child of the run's span. */
  startAttempt(nodeId: string, nodeType: string, attempt: number): AttemptSpan;
  /** The run left the engine with `status` (a detached run ends its span too). */
  end(status: string, error: string | null): void;
}

export interface AttemptSpan {
  /** The W3C `traceparent` naming this attempt's span, for the requests it sends. */
  readonly traceparent: string;
  end(status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', error?: string): void;
}
