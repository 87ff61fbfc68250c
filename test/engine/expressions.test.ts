// JSONata expressions and `{{ }}` templates: bindings, plain-JSON results, typed whole templates, errors.
import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/engine/errors.js';
import {
  checkExpression,
  evaluate,
  prepareParams,
  resolveTemplates,
  templateExpressions,
  type ExpressionScope,
} from '../../src/engine/expressions.js';
import { builtinNodeTypes } from '../../src/engine/nodes/index.js';

const scope: ExpressionScope = {
  input: { id: 42, name: 'Ada', tags: ['a', 'b'], items: [{ price: 2 }, { price: 3 }], nothing: null },
  nodes: { fetch: { status: 200, body: { user: { id: 'u1' } } } },
  run: { id: 'run-1', input: { wait: 250 } },
};

describe('evaluate', () => {
  it('binds $input, $nodes and $run, and the input as the context', async () => {
    expect(await evaluate('$input.name', scope)).toBe('Ada');
    expect(await evaluate('$nodes.fetch.body.user.id', scope)).toBe('u1');
    expect(await evaluate('$run.id & ":" & $string($run.input.wait)', scope)).toBe('run-1:250');
    expect(await evaluate('id + 1', scope)).toBe(43);
  });

  it('returns plain JSON: arrays without the sequence flag, plain objects, no functions', async () => {
    const prices = await evaluate('$input.items.price', scope);
    expect(prices).toEqual([2, 3]);
    expect(Object.keys(prices as object)).toEqual(['0', '1']);
    const built = await evaluate('{ "total": $sum($input.items.price), "f": function($x) { $x } }', scope);
    expect(built).toEqual({ total: 5 });
    expect(Object.getPrototypeOf(built)).toBe(Object.prototype);
    expect(await evaluate('$input.missing', scope)).toBeUndefined();
    expect(await evaluate('function($x) { $x }', scope)).toBeUndefined();
  });

  it('throws NonRetriableError naming the expression when it fails or does not parse', async () => {
    await expect(evaluate('$input.name + 1', scope)).rejects.toThrow(NonRetriableError);
    await expect(evaluate('$input.name + 1', scope)).rejects.toThrow(/^expression "\$input\.name \+ 1" failed: .*"\+"/);
    await expect(evaluate('$input.', scope)).rejects.toThrow('expression "$input." does not parse: Unexpected end of expression');
  });

  it('stops a runaway expression instead of holding the process', async () => {
    await expect(evaluate('($f := function($n) { 1 + $f($n + 1) }; $f(0))', scope)).rejects.toThrow(/Stack overflow/);
  });
});

describe('evaluate under load', () => {
  it('does not time out correct expressions that interleave with thousands of others', async () => {
    // JSONata's time guard counts wall time from each evaluation's start; 2,000 evaluations started
    // together each span the whole batch, which must not make any of them fail.
    const scope = { input: { items: Array.from({ length: 200 }, (_, i) => i) }, nodes: {}, run: { id: 'r', input: null } };
    const results = await Promise.all(Array.from({ length: 2000 }, () => evaluate('$sum($input.items.($ * 2))', scope)));
    expect(new Set(results)).toEqual(new Set([39800]));
  });
});

describe('checkExpression', () => {
  it('returns null for a valid expression and a readable error otherwise', () => {
    expect(checkExpression('$input.status = 200')).toBeNull();
    expect(checkExpression('$input.status = ')).toBe('Unexpected end of expression (at position 16)');
    expect(checkExpression('  ')).toBe('the expression is empty');
  });
});

describe('resolveTemplates', () => {
  it('replaces parts of a string by their values as text', async () => {
    expect(await resolveTemplates('https://x/users/{{ $input.id }}?n={{$input.name}}', scope)).toBe('https://x/users/42?n=Ada');
    expect(await resolveTemplates('tags={{ $input.tags }} none={{ $input.nothing }} gone={{ $input.missing }}.', scope)).toBe(
      'tags=["a","b"] none=null gone=.',
    );
  });

  it('gives a string that is one whole template the value with its type', async () => {
    expect(await resolveTemplates('{{ $run.input.wait }}', scope)).toBe(250);
    expect(await resolveTemplates('  {{ $input.tags }} ', scope)).toEqual(['a', 'b']);
    expect(await resolveTemplates('{{ $nodes.fetch.body }}', scope)).toEqual({ user: { id: 'u1' } });
    expect(await resolveTemplates('{{ $input.id > 40 }}', scope)).toBe(true);
    expect(await resolveTemplates('{{ {"a": {"b": $input.id}} }}', scope)).toEqual({ a: { b: 42 } });
  });

  it('walks any JSON value, leaves the original alone, and drops keys whose whole template is undefined', async () => {
    const value = { url: 'x/{{ $input.id }}', list: ['{{ $input.id }}', 7, '{{ $input.missing }}'], keep: true, gone: '{{ $input.missing }}' };
    expect(await resolveTemplates(value, scope)).toEqual({ url: 'x/42', list: [42, 7, null], keep: true });
    expect(value.url).toBe('x/{{ $input.id }}');
  });

  it('leaves strings without a closed template as they are', async () => {
    const value = { a: 'no template', b: 'open {{ only', c: '{ single }' };
    expect(await resolveTemplates(value, scope)).toEqual(value);
    expect(await resolveTemplates('open {{ $input.id', scope)).toBe('open {{ $input.id');
  });

  it('names the param of a failing template', async () => {
    await expect(resolveTemplates({ headers: { a: '{{ $input.name - 1 }}' } }, scope, ['params'])).rejects.toThrow(
      /^template in params\.headers\.a: expression "\$input\.name - 1" failed/,
    );
  });
});

describe('templateExpressions', () => {
  it('lists every template expression with the path of its string', () => {
    expect(templateExpressions({ url: 'a{{ $input.id }}b{{ $run.id }}', body: { list: [1, '{{ ( }}'] }, n: 5 })).toEqual([
      { source: '$input.id', path: ['url'] },
      { source: '$run.id', path: ['url'] },
      { source: '(', path: ['body', 'list', '1'] },
    ]);
  });
});

describe('prepareParams', () => {
  it('resolves templates, fills defaults and parses with the type schema', async () => {
    const http = builtinNodeTypes.get('http')!;
    const params = await prepareParams(http, { url: 'https://x/{{ $input.id }}', timeoutMs: '{{ $run.input.wait }}' }, scope);
    expect(params).toEqual({ method: 'GET', url: 'https://x/42', headers: {}, query: {}, timeoutMs: 250, failOnHttpError: true });
  });

  it('leaves expression params untouched', async () => {
    const transform = builtinNodeTypes.get('transform')!;
    expect(await prepareParams(transform, { expression: '"{{ $input.id }}"' }, scope)).toEqual({ expression: '"{{ $input.id }}"' });
  });

  it('throws NonRetriableError naming the param when the resolved params do not fit', async () => {
    const delay = builtinNodeTypes.get('delay')!;
    const failure = prepareParams(delay, { ms: '{{ $input.name }}' }, scope);
    await expect(failure).rejects.toThrow(NonRetriableError);
    await expect(failure).rejects.toThrow(/^params do not fit "delay": params\.ms: /);
  });
});
