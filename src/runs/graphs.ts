// Compiled graphs per workflow version. A version never changes, so its graph serves every run of it:
// reading and compiling the definition was half the statements and most of the CPU of a startRun.
import type { Db } from '../db/client.js';
import { readDefinition } from '../db/queries/workflows.js';
import { compileWorkflow, WorkflowValidationError, type NodeRegistry, type WorkflowGraph } from '../engine/index.js';

/** Thrown when a stored definition no longer compiles (e.g. a node type was removed since). */
export class StoredDefinitionInvalidError extends WorkflowValidationError {}

export interface GraphCache {
  /** The compiled graph of `workflowId` at `version`; StoredDefinitionInvalidError if it no longer compiles. */
  get(workflowId: string, version: number): Promise<WorkflowGraph>;
}

/** A cache of at most `max` compiled versions, the oldest dropped first. */
export function createGraphCache(db: Db, registry: NodeRegistry, max = 500): GraphCache {
  const graphs = new Map<string, WorkflowGraph>();
  return {
    async get(workflowId, version) {
      const key = `${workflowId}@${version}`;
      const cached = graphs.get(key);
      if (cached) return cached;
      const definition = await readDefinition(db, workflowId, version);
      let graph: WorkflowGraph;
      try {
        graph = compileWorkflow(definition, registry);
      } catch (error) {
        if (error instanceof WorkflowValidationError) throw new StoredDefinitionInvalidError(error.issues);
        throw error;
      }
      if (graphs.size >= max) graphs.delete(graphs.keys().next().value!);
      graphs.set(key, graph);
      return graph;
    },
  };
}
