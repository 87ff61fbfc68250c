// The `condition` node: a JSONata test that sends its input down the `true` or the `false` edge.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

export interface ConditionParams {
  expression: string;
}

/** JSONata's `$boolean`: empty strings, arrays and objects, 0, null and functions are false. */
export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isTruthy);
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  if (typeof value === 'function') return false;
  return Boolean(value);
}

/** Evaluates `expression`; chooses handle `true` or `false` by its truthiness; passes its input on. */
export const conditionNodeType: NodeType<ConditionParams> = {
  type: 'condition',
  description: 'Evaluates a JSONata expression and continues on the "true" or the "false" edge with its input.',
  params: z.strictObject({ expression: z.string().min(1) }),
  expressionParams: ['expression'],
  handles: () => ['true', 'false'],
  run: async (params, ctx) => ({
    output: ctx.input,
    handle: isTruthy(await ctx.evaluate(params.expression)) ? 'true' : 'false',
  }),
};
