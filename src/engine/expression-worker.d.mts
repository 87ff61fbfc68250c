// Types of expression-worker.mjs (plain JavaScript so that worker threads need no TypeScript loader).
import type { ExpressionLimit } from './expression-limits.js';

/** One evaluation: the source and the part of the scope it can reference. */
export interface ExpressionTask {
  source: string;
  /** `$input`, also the context `$`. */
  input: unknown;
  /** Only the outputs the expression can read (all of them when it may read any). */
  nodes: Readonly<Record<string, unknown>>;
  /** `$run`; absent when the expression never reads it. */
  run?: { id: string; input: unknown };
  /** EXPRESSION_RESULT_BYTES. */
  resultBytes: number;
}

/** The answer: the result's JSON text (undefined for "no value"), or why it failed (`limit` when past a bound). */
export type ExpressionAnswer = { ok: true; json: string | undefined } | { ok: false; message: string; limit?: ExpressionLimit };

export declare const jsonataBounds: { readonly stack: number; readonly sequence: number };

/** Evaluates one task in the worker; never throws. */
export default function evaluateTask(task: ExpressionTask): Promise<ExpressionAnswer>;

/** One readable line for anything jsonata throws (plain objects with code, position, message). */
export declare function jsonataMessage(error: unknown): string;

/** The JSON text of a result, or the result limit's answer when it would exceed `maxBytes` (Infinity: unchecked). */
export declare function resultAnswer(value: unknown, maxBytes: number): ExpressionAnswer;
