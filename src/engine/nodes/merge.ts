// The `merge` node: joins branches. The engine decides when it runs (mode) and hands it its inputs.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

export interface MergeParams {
  mode: 'ALL' | 'ANY';
}

/** Outputs its input: `{ <sourceNodeId>: output }` of its live inputs. `ALL` needs every input live. */
export const mergeNodeType: NodeType<MergeParams> = {
  type: 'merge',
  description: 'Joins branches; outputs { <sourceNodeId>: output } of its live inputs (mode ALL needs every input live).',
  params: z.strictObject({ mode: z.enum(['ALL', 'ANY']).default('ANY') }),
  run: async (_params, ctx) => ({ output: ctx.input }),
};
