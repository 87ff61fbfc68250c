// The `fail` node: always fails, without retry. For tests and "stop here with an error".
import { z } from 'zod';
import { NonRetriableError } from '../errors.js';
import type { NodeType } from './node-type.js';

export interface FailParams {
  message: string;
}

/** Throws NonRetriableError(`message`). */
export const failNodeType: NodeType<FailParams> = {
  type: 'fail',
  description: 'Always fails with its message (no retry); for tests and stopping a branch with an error.',
  params: z.strictObject({ message: z.string().min(1).max(10_000).default('failed') }),
  run: async (params) => {
    throw new NonRetriableError(params.message);
  },
};
