// The object refs of the run-related types, declared apart from their implementations so that the
// type files (workflow ↔ run ↔ step ↔ run-event) can point at each other without import cycles.
import type { BranchRow, RunEventRow, RunRow, StepRow, WorkflowRow } from '../db/schema.js';
import { builder } from './builder.js';

/** A workflow row; `definition` is present when the caller already holds it (else read on demand). */
export type WorkflowShape = WorkflowRow & { definition?: unknown };

export const WorkflowRef = builder.objectRef<WorkflowShape>('Workflow');
export const RunRef = builder.objectRef<RunRow>('Run');
export const StepRef = builder.objectRef<StepRow>('Step');
export const BranchRef = builder.objectRef<BranchRow>('Branch');
export const RunEventRef = builder.objectRef<RunEventRow>('RunEvent');

/** The shared connection of runs (Query.runs and Workflow.runs). */
export const RunConnection = builder.connectionObject(
  { type: RunRef, name: 'RunConnection' },
  { name: 'RunConnectionEdge' },
);
