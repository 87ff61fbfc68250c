// The named errors of the engine. Inside the actor tree a failure is data; these classes carry it.

/** A workflow definition broke one or more rules; `issues` lists every one of them. */
export class WorkflowValidationError extends Error {
  override name = 'WorkflowValidationError';
  constructor(readonly issues: ValidationIssue[]) {
    super(`invalid workflow: ${issues.map((i) => i.message).join('; ')}`);
  }
}

/** One thing wrong with a definition, naming where: a JSON path, and the node when there is one. */
export interface ValidationIssue {
  path: string[];
  nodeId: string | null;
  message: string;
}

/** A node's attempt failed. `retriable` false stops retries; `retryAfterMs` overrides the backoff. */
export class NodeExecutionError extends Error {
  override name = 'NodeExecutionError';
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retriable?: boolean; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable ?? true;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A failure that no retry can mend (bad params after templating, a refused address, a `fail` node). */
export class NonRetriableError extends NodeExecutionError {
  override name = 'NonRetriableError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** An attempt ran past its node's `timeoutMs`. */
export class NodeTimeoutError extends NodeExecutionError {
  override name = 'NodeTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/** The run was cancelled (by `cancelRun`, fail-fast, a run timeout or shutdown) while this was under way. */
export class RunCancelledError extends Error {
  override name = 'RunCancelledError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A readable one-line message for anything thrown, Error or not. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  if (error === undefined || error === null) return `threw ${String(error)}`;
  try {
    return `threw ${JSON.stringify(error)}`;
  } catch {
    return `threw ${String(error)}`;
  }
}
