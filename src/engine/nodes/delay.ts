// The `delay` node: waits on the injected clock, then passes its input on.
import { z } from 'zod';
import type { NodeType } from './node-type.js';

export interface DelayParams {
  ms: number;
}

/** Waits `ms` (at most 24 h; cut short when the signal aborts; kept across restarts) and outputs its input. */
export const delayNodeType: NodeType<DelayParams> = {
  type: 'delay',
  description: 'Waits ms milliseconds (at most 24 h), then passes its input on.',
  params: z.strictObject({ ms: z.int().min(0).max(86_400_000) }),
  run: async (params, ctx) => {
    await ctx.wait(params.ms);
    return { output: ctx.input };
  },
};
