// The workflow definition's JSON form as zod schemas, and the types read from them.
import { z } from 'zod';

export const retrySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(100),
  backoff: z.enum(['FIXED', 'EXPONENTIAL']).default('FIXED'),
  initialDelayMs: z.int().min(0).max(86_400_000).default(1000),
  maxDelayMs: z.int().min(0).max(86_400_000).optional(),
});

export const nodeSchema = z.strictObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1),
  name: z.string().max(500).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  retry: retrySchema.optional(),
  timeoutMs: z.int().min(1).max(86_400_000).optional(),
  onError: z.enum(['FAIL', 'CONTINUE']).default('FAIL'),
  /** Where to draw it; execution ignores it. */
  position: z.strictObject({ x: z.number().min(-1e9).max(1e9), y: z.number().min(-1e9).max(1e9) }).optional(),
});

export const edgeSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  source: z.string().min(1),
  target: z.string().min(1),
  sourceHandle: z.string().min(1).optional(),
});

export const settingsSchema = z.strictObject({
  maxConcurrency: z.int().min(1).max(10_000).default(64),
  errorStrategy: z.enum(['FAIL_FAST', 'CONTINUE']).default('FAIL_FAST'),
  timeoutMs: z.int().min(1).max(7 * 86_400_000).optional(),
  /** Most runs of the workflow running at once, across every process (§9); unset: unlimited. */
  maxConcurrentRuns: z.int().min(1).max(1_000_000).optional(),
});

export const definitionSchema = z.strictObject({
  // Their length is bounded before parsing (graph-definition.ts), by a ceiling a process may raise.
  nodes: z.array(nodeSchema),
  edges: z.array(edgeSchema),
  settings: settingsSchema.default({ maxConcurrency: 64, errorStrategy: 'FAIL_FAST' }),
});

/** A definition as a client writes it (defaults optional). */
export type WorkflowDefinitionInput = z.input<typeof definitionSchema>;
/** A definition after parsing (defaults filled in). */
export type WorkflowDefinition = z.output<typeof definitionSchema>;
export type WorkflowNode = z.output<typeof nodeSchema>;
export type WorkflowEdge = z.output<typeof edgeSchema>;
export type WorkflowSettings = z.output<typeof settingsSchema>;
export type RetryPolicy = z.output<typeof retrySchema>;
