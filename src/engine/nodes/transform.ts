// The `transform` node: outputs the value of a JSONata expression.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

export interface TransformParams {
  expression: string;
}

/** Outputs the value of `expression` (`null` when it matches nothing). */
export const transformNodeType: NodeType<TransformParams> = {
  type: 'transform',
  description: "Outputs the value of a JSONata expression over $input, $nodes and $run.",
  params: z.strictObject({ expression: z.string().min(1) }),
  expressionParams: ['expression'],
  run: async (params, ctx) => ({ output: (await ctx.evaluate(params.expression)) ?? null }),
};
