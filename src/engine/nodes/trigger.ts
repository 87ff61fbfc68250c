// The `trigger` node: where every run starts; its output is the run's input.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

/** Starts the run (all triggers start at once); outputs the run's `input`. */
export const triggerNodeType: NodeType<Record<string, never>> = {
  type: 'trigger',
  description: "Starts the run; outputs the run's input.",
  params: z.strictObject({}),
  run: async (_params, ctx) => ({ output: ctx.runInput ?? null }),
};
