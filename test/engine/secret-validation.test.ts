// Where a secret may be used: exactly {{ $secrets.NAME }} in an http node's url, headers, query or
// body. Anywhere else, or inside a larger expression, the definition is refused naming node and param;
// a valid graph knows the names it references.
import { describe, expect, it } from 'vitest';
import { compileWorkflow, validateWorkflow } from '../../src/engine/graph.js';
import { builtinNodeTypes } from '../../src/engine/nodes/index.js';

const trigger = { id: 'start', type: 'trigger' };

function definitionWith(node: { id: string; type: string; params: Record<string, unknown> }) {
  return { nodes: [trigger, node], edges: [{ source: 'start', target: node.id }] };
}

function issues(node: { id: string; type: string; params: Record<string, unknown> }) {
  const result = validateWorkflow(definitionWith(node), builtinNodeTypes);
  return result.ok ? [] : result.issues.map(({ path, nodeId, message }) => ({ path: path.join('.'), nodeId, message }));
}

describe('secret references', () => {
  it('are accepted in an http node url, headers, query and body, alone or inside text, and listed by the graph', () => {
    const call = {
      id: 'call',
      type: 'http',
      params: {
        method: 'POST',
        url: 'https://api.example.com/{{ $secrets.PATH_KEY }}/items?x={{ $input.x }}',
        headers: { authorization: 'Bearer {{$secrets.API_TOKEN}}', 'x-key': '{{ $secrets.API_TOKEN }}' },
        query: { key: '{{ $secrets.QUERY_KEY }}' },
        body: { nested: [{ token: 'a {{ $secrets.BODY_KEY }} b' }] },
      },
    };
    expect(issues(call)).toEqual([]);
    expect(compileWorkflow(definitionWith(call), builtinNodeTypes).secrets).toEqual(['API_TOKEN', 'BODY_KEY', 'PATH_KEY', 'QUERY_KEY']);
  });

  it('are refused in a transform, a condition or a switch expression', () => {
    for (const [type, extra] of [['transform', {}], ['condition', {}], ['switch', { cases: ['a'] }]] as const) {
      const found = issues({ id: 'n', type, params: { expression: '$secrets.API_TOKEN', ...extra } });
      expect(found).toEqual([{ path: 'nodes.1.params.expression', nodeId: 'n', message: expect.stringContaining('an expression cannot read $secrets') }]);
    }
  });

  it('are refused in templates outside the http params that allow them', () => {
    expect(issues({ id: 'n', type: 'fail', params: { message: 'token {{ $secrets.API_TOKEN }}' } })).toEqual([
      { path: 'nodes.1.params.message', nodeId: 'n', message: expect.stringMatching(/secrets can only be used in an http node's url, headers, query or body, not in a fail node's "message"/) },
    ]);
    expect(issues({ id: 'n', type: 'http', params: { url: 'https://a.example', method: '{{ $secrets.METHOD }}' } })).toEqual([
      { path: 'nodes.1.params.method', nodeId: 'n', message: expect.stringContaining(`not in a http node's "method"`) },
    ]);
  });

  it('are refused inside a larger expression, which could dump or transform them', () => {
    for (const source of ['$string($secrets)', '$secrets.API_TOKEN & "x"', '$keys($secrets)', '$uppercase($secrets.API_TOKEN)', '$secrets']) {
      const found = issues({ id: 'n', type: 'http', params: { url: 'https://a.example', headers: { 'x-a': `{{ ${source} }}` } } });
      expect(found, source).toEqual([
        { path: 'nodes.1.params.headers.x-a', nodeId: 'n', message: expect.stringContaining('never inside a larger expression') },
      ]);
    }
  });

  it('name at most 64 characters', () => {
    const name = `A${'b'.repeat(64)}`;
    const found = issues({ id: 'n', type: 'http', params: { url: `https://a.example/{{ $secrets.${name} }}` } });
    expect(found).toEqual([{ path: 'nodes.1.params.url', nodeId: 'n', message: expect.stringContaining('is longer than 64 characters') }]);
  });

  it('leave a graph without secrets with an empty list', () => {
    const call = { id: 'call', type: 'http', params: { url: 'https://a.example/{{ $input.secrets }}', headers: { a: '$secrets.X' } } };
    expect(issues(call)).toEqual([]);
    expect(compileWorkflow(definitionWith(call), builtinNodeTypes).secrets).toEqual([]);
  });
});
