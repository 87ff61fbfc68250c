// The engine's ceiling on a definition's size: 100,000 nodes and 200,000 edges unless the process raises
// it, and the MAX_DEFINITION_* settings a server would raise it with.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { defaultDefinitionLimits, definitionLimits, setDefinitionLimits } from '../../src/engine/graph-definition.js';
import { compileWorkflow, validateWorkflow } from '../../src/engine/graph.js';
import { builtinNodeTypes } from '../../src/engine/nodes/index.js';

/** trigger → n transforms side by side: n + 1 nodes, n edges. */
function fanOut(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `t${i}`);
  return {
    nodes: [{ id: 'start', type: 'trigger' }, ...ids.map((id) => ({ id, type: 'transform', params: { expression: '$input' } }))],
    edges: ids.map((target) => ({ source: 'start', target })),
    settings: { maxConcurrency: 10_000 },
  };
}

const issuesOf = (definition: unknown) => {
  const result = validateWorkflow(definition, builtinNodeTypes);
  return result.ok ? [] : result.issues;
};

afterEach(() => {
  setDefinitionLimits(defaultDefinitionLimits);
});

describe('the engine ceiling on definitions', () => {
  it('is 100,000 nodes and 200,000 edges by default, and a fan-out of 100,000 transforms is one node past it', () => {
    expect(definitionLimits()).toEqual({ maxNodes: 100_000, maxEdges: 200_000 });
    expect(issuesOf(fanOut(100_000))).toEqual([{ path: ['nodes'], nodeId: null, message: 'too many nodes: 100001 (at most 100000)' }]);
    const edges = Array.from({ length: 200_001 }, () => ({ source: 'start', target: 'start' }));
    expect(issuesOf({ nodes: [{ id: 'start', type: 'trigger' }], edges })).toEqual([
      { path: ['edges'], nodeId: null, message: 'too many edges: 200001 (at most 200000)' },
    ]);
    expect(validateWorkflow(fanOut(99_999), builtinNodeTypes).ok).toBe(true);
  }, 120_000); // validating 100,000 nodes takes seconds on a busy machine

  it('once raised, compiles the 100,001-node fan-out and refuses one node more, naming the new ceiling', () => {
    const previous = setDefinitionLimits({ maxNodes: 100_001, maxEdges: 200_000 });
    expect(previous).toEqual(defaultDefinitionLimits);
    const graph = compileWorkflow(fanOut(100_000), builtinNodeTypes);
    expect(graph.nodes).toHaveLength(100_001);
    expect(graph.triggers[0]!.outgoing).toHaveLength(100_000);
    expect(issuesOf(fanOut(100_001))).toEqual([{ path: ['nodes'], nodeId: null, message: 'too many nodes: 100002 (at most 100001)' }]);
    setDefinitionLimits(previous);
    expect(issuesOf(fanOut(100_000))[0]?.message).toBe('too many nodes: 100001 (at most 100000)');
  }, 120_000);

  it('bounds edges by their own ceiling', () => {
    setDefinitionLimits({ maxNodes: 100_000, maxEdges: 10 });
    expect(issuesOf(fanOut(11))).toEqual([{ path: ['edges'], nodeId: null, message: 'too many edges: 11 (at most 10)' }]);
    expect(validateWorkflow(fanOut(10), builtinNodeTypes).ok).toBe(true);
  });
});

describe('MAX_DEFINITION_NODES / MAX_DEFINITION_EDGES', () => {
  it('default to 5,000 / 20,000 and may be raised past the engine default, up to 1,000,000 / 2,000,000', () => {
    expect(loadConfig({})).toMatchObject({ maxDefinitionNodes: 5000, maxDefinitionEdges: 20_000 });
    expect(loadConfig({ MAX_DEFINITION_NODES: '100001', MAX_DEFINITION_EDGES: '100000' })).toMatchObject({
      maxDefinitionNodes: 100_001,
      maxDefinitionEdges: 100_000,
    });
    expect(() => loadConfig({ MAX_DEFINITION_NODES: '1000001' })).toThrow(/MAX_DEFINITION_NODES="1000001": expected a whole number of at most 1000000/);
    expect(() => loadConfig({ MAX_DEFINITION_EDGES: '2000001' })).toThrow(/MAX_DEFINITION_EDGES="2000001": expected a whole number of at most 2000000/);
  });
});
