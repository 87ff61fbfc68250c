// Compiling JSONata on the main thread, once per source (a bounded cache): for validation, for the
// plan of what an expression reads and whether it may run inline, and for the in-thread evaluator.
import jsonata from 'jsonata';
import { planExpression, type ExpressionPlan } from './expression-plan.js';
import { jsonataMessage } from './expression-worker.mjs';

export { jsonataMessage };

// The in-thread evaluator's guardrails (the previous approach, kept for the bench baseline and as
// `evaluator: 'inline'`): call depth, and wall time as a backstop. Bounded expressions need neither.
const INLINE_GUARDS = { timeout: 30_000, stack: 500 };
const CACHE_LIMIT = 10_000;

/** A compiled expression: its plan, and the compilation the main thread evaluates it with. */
export interface Compiled {
  expression: jsonata.Expression;
  plan: ExpressionPlan;
}

const cache = new Map<string, Compiled>();

/** Compiles (or reuses) `source`; throws jsonata's parse error. */
export function compile(source: string): Compiled {
  let compiled = cache.get(source);
  if (compiled === undefined) {
    const expression = jsonata(source, INLINE_GUARDS);
    compiled = { expression, plan: planExpression(expression.ast()) };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(source, compiled);
  }
  return compiled;
}

/** The cached compilation of `source`, if any (the common case: checked at validation). */
export const cached = (source: string): Compiled | undefined => cache.get(source);

/** An expression shortened for messages, quoted. */
export function quote(source: string): string {
  return JSON.stringify(source.length > 80 ? `${source.slice(0, 77)}...` : source);
}
