// Workflow validation and compilation: one test per rule of CONTRACT §2, each issue naming its culprit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkflowValidationError, type ValidationIssue } from '../../src/engine/errors.js';
import { compileWorkflow, validateWorkflow } from '../../src/engine/graph.js';
import { builtinNodeTypes } from '../../src/engine/nodes/index.js';

const trigger = { id: 'start', type: 'trigger' };
const http = (id: string, params: Record<string, unknown> = { url: 'https://example.com' }) => ({ id, type: 'http', params });
const edge = (source: string, target: string, sourceHandle?: string) => ({ source, target, ...(sourceHandle ? { sourceHandle } : {}) });

function issuesOf(definition: unknown): ValidationIssue[] {
  const result = validateWorkflow(definition, builtinNodeTypes);
  if (result.ok) throw new Error('expected the definition to be invalid');
  return result.issues;
}

/** The single issue of a definition that breaks exactly one rule. */
function onlyIssue(definition: unknown): ValidationIssue {
  const issues = issuesOf(definition);
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

describe('validateWorkflow rules', () => {
  it('accepts a valid definition', () => {
    const result = validateWorkflow({ nodes: [trigger, http('a')], edges: [edge('start', 'a')] }, builtinNodeTypes);
    expect(result.ok).toBe(true);
  });

  it('accepts a node position for drawing, and refuses one that is not two numbers', () => {
    const placed = { ...http('a'), position: { x: 120.5, y: -40 } };
    const result = validateWorkflow({ nodes: [trigger, placed], edges: [edge('start', 'a')] }, builtinNodeTypes);
    expect(result.ok && result.graph.byId.get('a')!.definition.position).toEqual({ x: 120.5, y: -40 });
    const issue = onlyIssue({ nodes: [trigger, { ...http('a'), position: { x: '1', y: 2 } }], edges: [edge('start', 'a')] });
    expect(issue).toMatchObject({ path: ['nodes', '1', 'position', 'x'], nodeId: 'a' });
  });

  it('reports structural errors with their path and node', () => {
    const issues = issuesOf({
      nodes: [trigger, { ...http('a'), retry: { maxAttempts: 0 }, colour: 'red' }],
      edges: [edge('start', 'a')],
      settings: { maxConcurrency: 'lots' },
    });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['nodes', '1', 'retry', 'maxAttempts'], nodeId: 'a', message: expect.stringMatching(/^node "a": retry\.maxAttempts: /) }),
      { path: ['nodes', '1', 'colour'], nodeId: 'a', message: 'node "a": unknown field "colour"' },
      expect.objectContaining({ path: ['settings', 'maxConcurrency'], nodeId: null, message: expect.stringMatching(/^settings\.maxConcurrency: /) }),
    ]);
  });

  it('reports duplicate node ids', () => {
    expect(onlyIssue({ nodes: [trigger, http('a'), http('a')], edges: [edge('start', 'a')] })).toEqual({
      path: ['nodes', '2', 'id'],
      nodeId: 'a',
      message: 'node "a": duplicate id (nodes 1 and 2)',
    });
  });

  it('reports an unknown type and lists the known ones', () => {
    const issue = onlyIssue({ nodes: [trigger, { id: 'a', type: 'htp' }], edges: [edge('start', 'a')] });
    expect(issue).toMatchObject({ path: ['nodes', '1', 'type'], nodeId: 'a' });
    expect(issue.message).toBe(
      'node "a": unknown type "htp" (known types: trigger, http, condition, switch, merge, delay, transform, fail)',
    );
  });

  it('reports edges to and from missing nodes', () => {
    const issues = issuesOf({ nodes: [trigger, http('a')], edges: [edge('start', 'a'), edge('a', 'zz'), edge('yy', 'a')] });
    expect(issues).toEqual([
      { path: ['edges', '1', 'target'], nodeId: 'a', message: 'edge 1 ("a" → "zz"): target "zz" does not exist' },
      { path: ['edges', '2', 'source'], nodeId: 'a', message: 'edge 2 ("yy" → "a"): source "yy" does not exist' },
    ]);
  });

  it('reports duplicate edges', () => {
    expect(onlyIssue({ nodes: [trigger, http('a')], edges: [edge('start', 'a'), edge('start', 'a')] })).toEqual({
      path: ['edges', '1'],
      nodeId: 'start',
      message: 'edge 1 ("start" → "a"): duplicates edge 0',
    });
  });

  const check = { id: 'check', type: 'condition', params: { expression: '$input.ok' } };

  it('requires a handle on edges out of a condition', () => {
    expect(onlyIssue({ nodes: [trigger, check, http('a')], edges: [edge('start', 'check'), edge('check', 'a')] })).toEqual({
      path: ['edges', '1', 'sourceHandle'],
      nodeId: 'check',
      message: 'edge 1 ("check" → "a"): an edge out of condition node "check" must name a sourceHandle: one of true, false',
    });
  });

  it("refuses a handle that is not one of the node's handles", () => {
    const route = { id: 'route', type: 'switch', params: { expression: '$input.kind', cases: ['a', 'b'] } };
    const issue = onlyIssue({ nodes: [trigger, route, http('x')], edges: [edge('start', 'route'), edge('route', 'x', 'c')] });
    expect(issue).toEqual({
      path: ['edges', '1', 'sourceHandle'],
      nodeId: 'route',
      message: 'edge 1 ("route" → "x"): "c" is not a handle of switch node "route" (its handles: a, b, default)',
    });
  });

  it('refuses a handle on edges out of nodes without handles', () => {
    expect(onlyIssue({ nodes: [trigger, http('a')], edges: [edge('start', 'a', 'true')] })).toEqual({
      path: ['edges', '0', 'sourceHandle'],
      nodeId: 'start',
      message: 'edge 0 ("start" → "a"): trigger node "start" has no handles, so its edges name no sourceHandle (got "true")',
    });
  });

  it('names the nodes of a cycle, and finds every independent cycle', () => {
    const issues = issuesOf({
      nodes: [trigger, http('a'), http('b'), http('c'), http('x'), http('y')],
      edges: [edge('start', 'a'), edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('start', 'x'), edge('x', 'y'), edge('y', 'x')],
    });
    expect(issues).toEqual([
      { path: ['edges', '3'], nodeId: 'a', message: 'cycle: "a" → "b" → "c" → "a"' },
      { path: ['edges', '6'], nodeId: 'x', message: 'cycle: "x" → "y" → "x"' },
    ]);
  });

  it('reports a self-loop as a cycle', () => {
    expect(onlyIssue({ nodes: [trigger, http('a')], edges: [edge('start', 'a'), edge('a', 'a')] }).message).toBe(
      'cycle: "a" → "a"',
    );
  });

  it('requires a trigger', () => {
    expect(onlyIssue({ nodes: [http('a')], edges: [] })).toEqual({
      path: ['nodes'],
      nodeId: null,
      message: 'no trigger: a workflow needs at least one node of type "trigger"',
    });
  });

  it('refuses an edge into a trigger', () => {
    const second = { id: 'again', type: 'trigger' };
    expect(onlyIssue({ nodes: [trigger, second], edges: [edge('start', 'again')] })).toEqual({
      path: ['edges', '0', 'target'],
      nodeId: 'again',
      message: 'edge 0 ("start" → "again"): leads into trigger "again"; a trigger has no inputs',
    });
  });

  it('reports nodes unreachable from every trigger', () => {
    expect(onlyIssue({ nodes: [trigger, http('a'), http('lost')], edges: [edge('start', 'a')] })).toEqual({
      path: ['nodes', '2'],
      nodeId: 'lost',
      message: 'node "lost" is not reachable from any trigger',
    });
  });

  it("reports params that break the node type's schema, with the path into params", () => {
    const issues = issuesOf({
      nodes: [trigger, { id: 'wait', type: 'delay', params: { ms: -1, unit: 's' } }],
      edges: [edge('start', 'wait')],
    });
    expect(issues).toEqual([
      expect.objectContaining({ path: ['nodes', '1', 'params', 'ms'], nodeId: 'wait', message: expect.stringMatching(/^node "wait": params\.ms: Too small/) }),
      { path: ['nodes', '1', 'params', 'unit'], nodeId: 'wait', message: 'node "wait": params.unit: unknown param "unit" for a delay node' },
    ]);
  });

  it('lets a whole {{ }} string stand for any type, but not a partial one', () => {
    const wait = (ms: unknown) => ({ nodes: [trigger, { id: 'wait', type: 'delay', params: { ms } }], edges: [edge('start', 'wait')] });
    expect(validateWorkflow(wait('{{ $input.wait }}'), builtinNodeTypes).ok).toBe(true);
    expect(validateWorkflow(wait('  {{ $input.wait }} '), builtinNodeTypes).ok).toBe(true);
    expect(onlyIssue(wait('{{ $input.wait }}0'))).toMatchObject({ path: ['nodes', '1', 'params', 'ms'], nodeId: 'wait' });
  });

  it('reports expression params that do not parse', () => {
    const bad = { id: 'check', type: 'condition', params: { expression: '$input.' } };
    expect(onlyIssue({ nodes: [trigger, bad], edges: [edge('start', 'check')] })).toEqual({
      path: ['nodes', '1', 'params', 'expression'],
      nodeId: 'check',
      message: 'node "check": params.expression: expression does not parse: Unexpected end of expression (at position 7)',
    });
  });

  it('reports every template that does not parse, wherever it sits in the params', () => {
    const call = http('a', { url: 'https://x/{{ $input.id }}', headers: { 'x-id': 'id {{ 1 + }}' }, body: { list: ['{{ ( }}'] } });
    const issues = issuesOf({ nodes: [trigger, call], edges: [edge('start', 'a')] });
    expect(issues.map((i) => i.path)).toEqual([
      ['nodes', '1', 'params', 'headers', 'x-id'],
      ['nodes', '1', 'params', 'body', 'list', '0'],
    ]);
    expect(issues[0]!.message).toMatch(/^node "a": params\.headers\.x-id: template \{\{ 1 \+ \}\} does not parse: /);
  });

  it('refuses templates in the params that decide handles', () => {
    const route = { id: 'route', type: 'switch', params: { expression: '$input.kind', cases: ['{{ $input.a }}'] } };
    const issue = onlyIssue({ nodes: [trigger, route], edges: [edge('start', 'route')] });
    expect(issue).toMatchObject({ path: ['nodes', '1', 'params', 'cases', '0'], nodeId: 'route' });
    expect(issue.message).toContain('cannot hold templates');
  });
});

describe('validateWorkflow robustness', () => {
  it('returns every issue of a definition at once', () => {
    const issues = issuesOf({
      nodes: [http('a'), http('a'), { id: 'b', type: 'nope' }, { id: 'w', type: 'delay', params: { ms: 'soon' } }],
      edges: [edge('a', 'zz'), edge('a', 'b', 'x'), edge('w', 'w')],
    });
    expect(issues.map((i) => i.message)).toEqual([
      'node "a": duplicate id (nodes 0 and 1)',
      expect.stringContaining('node "b": unknown type "nope"'),
      expect.stringContaining('node "w": params.ms:'),
      'edge 0 ("a" → "zz"): target "zz" does not exist',
      'edge 1 ("a" → "b"): http node "a" has no handles, so its edges name no sourceHandle (got "x")',
      'no trigger: a workflow needs at least one node of type "trigger"',
      'cycle: "w" → "w"',
    ]);
  });

  it('never throws, whatever it is given', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const garbage: unknown[] = [
      null, undefined, 42, 'x', [], {}, { nodes: 'no' }, { nodes: [], edges: {} },
      { nodes: [null, 5, { id: 7 }, { id: 'a' }, { id: 'b', type: 'http', params: [] }], edges: [null, { source: 1 }, 'e'] },
      { nodes: new Array(100_001).fill(trigger), edges: [] },
      { nodes: [trigger, http('a', { url: 'https://x', body: deep })], edges: [edge('start', 'a')] },
      { nodes: [trigger, { id: '__proto__', type: 'constructor' }], edges: [edge('start', '__proto__'), edge('toString', 'x')] },
    ];
    const results = garbage.map((input) => validateWorkflow(input, builtinNodeTypes));
    // Only the deep body is a valid definition (its depth is bounded at the API's edge, not here);
    // every other input is refused with at least one issue.
    const deepBody = garbage.length - 2;
    expect(results.map((result) => result.ok)).toEqual(garbage.map((_, i) => i === deepBody));
    const refused = results.flatMap((result) => (result.ok ? [] : [result.issues.length > 0]));
    expect(refused).toEqual(new Array(garbage.length - 1).fill(true));
    expect(issuesOf(null)[0]!.message).toBe('the definition must be an object with "nodes" and "edges", not null');
    expect(issuesOf({ nodes: new Array(100_001).fill(trigger), edges: [] })).toEqual([
      { path: ['nodes'], nodeId: null, message: 'too many nodes: 100001 (at most 100000)' },
    ]);
  });

  it('validates a 100,000-node chain without overflowing the stack, and finds a cycle through all of it', () => {
    const nodes = [trigger, ...Array.from({ length: 99_999 }, (_, i) => ({ id: `n${i}`, type: 'merge' }))];
    const edges = nodes.slice(1).map((node, i) => edge(nodes[i]!.id, node.id));
    expect(validateWorkflow({ nodes, edges }, builtinNodeTypes).ok).toBe(true);
    const issues = issuesOf({ nodes, edges: [...edges, edge('n99998', 'n0')] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/^cycle: "n0" → "n1" → .* … 99989 more … → .* → "n99998" → "n0"$/);
  });

  it('accepts every random DAG reachable from a trigger, and names the cycle one back edge closes', () => {
    const shape = fc.record({
      parents: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
      extra: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 60 }),
      pick: fc.tuple(fc.nat(), fc.nat()),
    });
    fc.assert(
      fc.property(shape, ({ parents, extra, pick }) => {
        const n = parents.length + 1;
        const ids = Array.from({ length: n }, (_, i) => (i === 0 ? 'start' : `n${i}`));
        const nodes = ids.map((id, i) => (i === 0 ? trigger : { id, type: 'merge' }));
        const parent = [0, ...parents.map((r, i) => r % (i + 1))]; // node i+1 hangs under an earlier node
        const pairs = new Set(parent.slice(1).map((p, i) => `${p}>${i + 1}`));
        for (const [a, b] of extra) {
          const [from, to] = [a % n, b % n].sort((x, y) => x - y) as [number, number];
          if (from !== to && to !== 0) pairs.add(`${from}>${to}`);
        }
        const edges = [...pairs].map((pair) => pair.split('>').map(Number)).map(([a, b]) => edge(ids[a!]!, ids[b!]!));
        expect(validateWorkflow({ nodes, edges }, builtinNodeTypes).ok).toBe(true);

        // A back edge from a node to one of its ancestors (or itself) closes a loop through both.
        const low = 1 + (pick[0] % (n - 1));
        let ancestor = low;
        for (let up = pick[1] % n; up > 0 && parent[ancestor]! > 0; up--) ancestor = parent[ancestor]!;
        const messages = issuesOf({ nodes, edges: [...edges, edge(ids[low]!, ids[ancestor]!)] }).map((i) => i.message);
        expect(messages).toEqual([expect.stringMatching(/^cycle: /)]);
        expect(messages[0]).toContain(`"${ids[low]}"`);
        expect(messages[0]).toContain(`"${ids[ancestor]}"`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('compileWorkflow', () => {
  const definition = {
    nodes: [
      trigger,
      { id: 'check', type: 'condition', params: { expression: '$input.ok' } },
      http('yes'),
      { id: 'route', type: 'switch', params: { expression: '$input.kind', cases: ['a', 'b'] } },
      { id: 'join', type: 'merge' },
    ],
    edges: [edge('start', 'check'), edge('check', 'yes', 'true'), edge('check', 'route', 'false'), edge('yes', 'join'), edge('route', 'join', 'default')],
  };

  it('compiles the topology in definition order with defaults filled', () => {
    const graph = compileWorkflow(definition, builtinNodeTypes);
    expect(graph.nodes.map((n) => [n.index, n.id, n.nodeType.type])).toEqual([
      [0, 'start', 'trigger'],
      [1, 'check', 'condition'],
      [2, 'yes', 'http'],
      [3, 'route', 'switch'],
      [4, 'join', 'merge'],
    ]);
    expect(graph.nodes.map((n) => n.handles)).toEqual([null, ['true', 'false'], null, ['a', 'b', 'default'], null]);
    const check = graph.byId.get('check')!;
    expect(check.incoming.map((e) => e.source.id)).toEqual(['start']);
    expect(check.outgoing.map((e) => [e.index, e.target.id, e.sourceHandle])).toEqual([
      [1, 'yes', 'true'],
      [2, 'route', 'false'],
    ]);
    expect(graph.byId.get('join')!.incoming.map((e) => e.source.id)).toEqual(['yes', 'route']);
    expect(graph.edges[0]).toMatchObject({ index: 0, sourceHandle: null });
    expect(graph.triggers.map((n) => n.id)).toEqual(['start']);
    expect(graph.settings).toEqual({ maxConcurrency: 64, errorStrategy: 'FAIL_FAST' });
    expect(check.definition).toMatchObject({ onError: 'FAIL', params: { expression: '$input.ok' } });
  });

  it('throws a WorkflowValidationError carrying every issue', () => {
    const broken = { ...definition, edges: [...definition.edges, edge('join', 'start'), edge('yes', 'nowhere')] };
    const error = (() => {
      try {
        compileWorkflow(broken, builtinNodeTypes);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(WorkflowValidationError);
    expect((error as WorkflowValidationError).issues.map((i) => i.path.join('.'))).toEqual(['edges.5.target', 'edges.6.target', 'edges.5']);
  });
});
