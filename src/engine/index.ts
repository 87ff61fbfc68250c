// The engine's public surface: the only module the rest of Braid imports from src/engine.
export { createEngine, type Engine, type EngineOptions, type RunEnd, type RunHandle, type StartRunOptions } from './engine.js';
export type { RestoredRun } from './scheduler.js';
export { stepsToRetry } from './retry-plan.js';
export { compileWorkflow, validateWorkflow, type ValidationResult, type WorkflowGraph } from './graph.js';
export { describeUnstorable, findDeeperThan, findUnstorable, mapStrings } from './json-walk.js';
export { builtinNodeTypes, createNodeRegistry } from './nodes/index.js';
export type { Log, NodeContext, NodeRegistry, NodeResult, NodeType } from './nodes/node-type.js';
export type { LeveledLogger } from './fan-out-log.js';
export type { AttemptSpan, RunSpan, RunTracer } from './run-tracer.js';
export { createMemoryStore, type MemoryStore, type StoredRun } from './memory-store.js';
export type { RunStore } from './store.js';
export { systemClock, type Clock } from './clock.js';
export { createHostLimits, type HostLimits, type HostState } from './host-limits.js';
export { organizationLimitReason, sheddingReason, type RunningNodeLimits, type StartGate } from './node-gates.js';
export type { ExpressionMode } from './expression-evaluator.js';
export { ExpressionLimitError, type ExpressionLimits } from './expression-limits.js';
export { createExpressionPool, type ExpressionPool } from './expression-pool.js';
export {
  NodeExecutionError,
  NodeTimeoutError,
  NonRetriableError,
  RunCancelledError,
  WorkflowValidationError,
  type ValidationIssue,
} from './errors.js';
export {
  branchStatuses,
  finalRunStatuses,
  runEventTypes,
  runStatuses,
  stepStatuses,
  type BranchState,
  type BranchStatus,
  type RunCommit,
  type RunEvent,
  type RunEventType,
  type RunState,
  type RunStatus,
  type StepState,
  type StepStatus,
} from './events.js';
export { createRedactor, type Redactor } from './redaction.js';
export { defaultDefinitionLimits, setDefinitionLimits } from './graph-definition.js';
export { MAX_SECRET_NAME_LENGTH, SECRET_NAME_PATTERN, type RunSecrets } from './secret-refs.js';
export { definitionSchema, type WorkflowDefinition, type WorkflowDefinitionInput } from './definition.js';
