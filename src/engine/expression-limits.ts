// The bounds every expression and template is evaluated under, and the error of a step past one.
import { NonRetriableError } from './errors.js';

/** What bounds expressions; the server fills it from EXPRESSION_* settings. */
export interface ExpressionLimits {
  /** Time cap when the node sets no `timeoutMs` (EXPRESSION_TIMEOUT_MS). */
  timeoutMs: number;
  /** Heap of one worker, in MB (EXPRESSION_MEMORY_MB). */
  memoryMb: number;
  /** Largest result, as UTF-8 JSON text (EXPRESSION_RESULT_BYTES). */
  resultBytes: number;
  /** Worker threads; one per core (at least 2) when unset (EXPRESSION_WORKERS). */
  workers?: number | undefined;
}

export const defaultExpressionLimits: ExpressionLimits = { timeoutMs: 5_000, memoryMb: 64, resultBytes: 1024 * 1024 };

export type ExpressionLimit = 'timeout' | 'memory' | 'result' | 'depth' | 'sequence';

/** A step went past one of the bounds: never retried (the same expression would do it again). */
export class ExpressionLimitError extends NonRetriableError {
  override name = 'ExpressionLimitError';
  constructor(
    readonly limit: ExpressionLimit,
    message: string,
  ) {
    super(message);
  }
}
