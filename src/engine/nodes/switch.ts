// The `switch` node: a JSONata value matched against literal cases, one handle per case plus `default`.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

export interface SwitchParams {
  expression: string;
  cases: string[];
}

const paramsSchema = z.strictObject({
  expression: z.string().min(1),
  cases: z
    .array(z.string().min(1))
    .min(1)
    .max(1000)
    .refine((cases) => new Set(cases).size === cases.length, 'cases must be unique')
    .refine((cases) => !cases.includes('default'), '"default" is the fallback handle and cannot be a case'),
});

/** How a value is compared with the cases: strings as-is, other JSON values as JSON text. */
function caseKey(value: unknown): string | undefined {
  return typeof value === 'string' || value === undefined ? value : JSON.stringify(value);
}

/** Evaluates `expression`; chooses the case equal to its value (numbers as text), else `default`. */
export const switchNodeType: NodeType<SwitchParams> = {
  type: 'switch',
  description: 'Evaluates a JSONata expression and continues on the edge of the matching case, or "default".',
  params: paramsSchema,
  expressionParams: ['expression'],
  handles: (params) => [...params.cases, 'default'],
  run: async (params, ctx) => {
    const key = caseKey(await ctx.evaluate(params.expression));
    return { output: ctx.input, handle: key !== undefined && params.cases.includes(key) ? key : 'default' };
  },
};
