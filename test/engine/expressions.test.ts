// JSONata expressions and `{{ }}` templates: bindings, plain-JSON results, typed whole templates, errors;
// which expressions may run inline, what a worker is sent, and the bounded evaluator's limits.
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../src/engine/errors.js';
import { createExpressionEvaluator } from '../../src/engine/expression-evaluator.js';
import { ExpressionLimitError } from '../../src/engine/expression-limits.js';
import { planExpression } from '../../src/engine/expression-plan.js';
import type { ExpressionPool } from '../../src/engine/expression-pool.js';
import type { ExpressionTask } from '../../src/engine/expression-worker.mjs';
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

describe('planExpression', () => {
  const plan = (source: string) => planExpression(jsonata(source).ast());

  it('lets provably bounded expressions run inline and sends the rest to a worker', () => {
    const inline = [
      '{ "i": $input.i + 1 }',
      '$input.status = 200',
      '$nodes.fetch.body.user.id',
      'id > 40 and name != "x" ? [id, -id] : null',
      '$count($input.items[price > 2 and $exists(name)])',
      '$input.items[0].price',
      '"a" in $input.tags',
    ];
    for (const source of inline) expect(plan(source).inline, source).not.toBeNull();
    const workers = [
      '"hello " & $input.name', // string building
      '$string($input)',
      '[1..5]', // ranges
      '$input.items{ name: price }', // grouping: quadratic in JSONata
      '$input.items.{ "a": price }', // a constructor per item
      '$input.items[$input.x = price]', // a scope variable read per item
      '$input.items.$input', // and as a later step
      '$match($input.name, /a+/)',
      '( $x := 1; $x )',
      'function($x) { $x }',
      '$input.items^(price)',
      '$nodes.*',
      '$input.**.id',
      '$$.id',
      '$eval("1")',
      Array.from({ length: 40 }, (_, i) => `a${i}`).join(' + '), // past the size cap
    ];
    for (const source of workers) expect(plan(source).inline, source).toBeNull();
  });

  it('records the data an inline expression starts from', () => {
    expect(plan('{ "i": $input.i + 1, "u": $nodes.a.body.id, "r": $run.input.x, "c": b.c }').inline?.roots).toEqual([
      ['input', 'i'],
      ['nodes', 'a', 'body', 'id'],
      ['run', 'input', 'x'],
      ['input', 'b', 'c'],
    ]);
    expect(plan('$count($input.items[price > 2].name)').inline?.roots).toEqual([['input', 'items']]);
  });

  it('names the outputs an expression reads: $nodes.<id>, or all of them', () => {
    expect(plan('$nodes.a.x + $nodes.b.y').nodes).toEqual(['a', 'b']);
    expect(plan('"x" & $nodes.a.x').nodes).toEqual(['a']);
    expect(plan('$input.x').nodes).toEqual([]);
    expect(plan('$keys($nodes)').nodes).toBeNull();
    expect(plan('$nodes.*').nodes).toBeNull();
    expect(plan('$lookup($nodes, "a")').nodes).toBeNull();
    expect(plan('$eval("$nodes.a")').nodes).toBeNull();
    expect(plan('$input.x').run).toBe(false);
    expect(plan('$run.id').run).toBe(true);
  });
});

describe('the bounded evaluator', () => {
  /** A pool that records what it is sent and answers `1`. */
  function recordingPool() {
    const tasks: ExpressionTask[] = [];
    let closed = 0;
    const pool: ExpressionPool = {
      run: async (task) => {
        tasks.push(task);
        return { ok: true, json: '1' };
      },
      threads: 0,
      close: async () => void closed++,
    };
    return { pool, tasks, closed: () => closed };
  }

  it('gives the same results as the in-thread evaluator, inline or in a worker', async () => {
    const bounded = createExpressionEvaluator({ limits: { workers: 2 } });
    try {
      const sources = [
        '{ "i": $input.id + 1 }',
        '$input.items[price > 2].price',
        '$count($input.tags)',
        '"hello " & $input.name',
        '$nodes.fetch.body',
        '$run.id',
        '$input.missing',
        '$sum($input.items.price) * 2',
        'function($x) { $x }',
      ];
      for (const source of sources) expect(await bounded.evaluate(source, scope), source).toEqual(await evaluate(source, scope));
    } finally {
      await bounded.close();
    }
  });

  it('sends a worker only the outputs the expression reads, and $run only when read', async () => {
    const { pool, tasks } = recordingPool();
    const bounded = createExpressionEvaluator({ pool });
    const nodes = { a: { x: 1 }, b: { y: 2 }, c: { z: 3 } };
    await bounded.evaluate('"v" & $nodes.a.x', { ...scope, nodes });
    await bounded.evaluate('$string($nodes)', { ...scope, nodes });
    await bounded.evaluate('$run.id & ""', { ...scope, nodes });
    expect(tasks.map((task) => [Object.keys(task.nodes), 'run' in task])).toEqual([
      [['a'], false],
      [['a', 'b', 'c'], true],
      [[], true],
    ]);
  });

  it('evaluates a whitelisted expression inline only over little data', async () => {
    const { pool, tasks } = recordingPool();
    const bounded = createExpressionEvaluator({ pool });
    const small = { ...scope, input: { items: Array.from({ length: 10 }, (_, i) => ({ price: i })) } };
    const large = { ...scope, input: { items: Array.from({ length: 5000 }, (_, i) => ({ price: i })) } };
    expect(await bounded.evaluate('$count($input.items[price > 2])', small)).toBe(7);
    expect(tasks).toHaveLength(0);
    expect(await bounded.evaluate('$count($input.items[price > 2])', large)).toBe(1); // the recording pool's answer
    expect(tasks).toHaveLength(1);
    // An object constructor over an array context groups in JSONata (quadratic): never inline.
    expect(await bounded.evaluate('{ "a": 1 }', { ...scope, input: [1, 2, 3] })).toBe(1);
    expect(tasks).toHaveLength(2);
  });

  it('checks the result size inline too', async () => {
    const bounded = createExpressionEvaluator({ limits: { resultBytes: 20 }, pool: recordingPool().pool });
    const input = { s: 'x'.repeat(18) };
    expect(await bounded.evaluate('$input.s', { ...scope, input })).toBe(input.s);
    await expect(bounded.evaluate('[$input.s]', { ...scope, input })).rejects.toThrow(
      'expression "[$input.s]" gave a result larger than 20 bytes (EXPRESSION_RESULT_BYTES)',
    );
  });

  it('stops a worker evaluation at its bound, or when its signal aborts', async () => {
    const bounded = createExpressionEvaluator({ limits: { workers: 2 } });
    const endless = '( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(40) )';
    try {
      const t0 = performance.now();
      const failure = bounded.evaluate(endless, scope, { timeoutMs: 300, timeoutName: 'timeoutMs' });
      await expect(failure).rejects.toThrow(ExpressionLimitError);
      await expect(failure).rejects.toThrow(/^expression ".*" timed out after 300 ms \(timeoutMs\)$/);
      expect(performance.now() - t0).toBeLessThan(5000);
      const controller = new AbortController();
      const stopped = bounded.evaluate(endless, scope, { timeoutMs: 60_000, timeoutName: 'timeoutMs', signal: () => controller.signal });
      const reason = new Error('run cancelled');
      setTimeout(() => controller.abort(reason), 50);
      await expect(stopped).rejects.toBe(reason);
      expect(await bounded.evaluate('"still " & "here"', scope)).toBe('still here');
    } finally {
      await bounded.close();
    }
  });

  it('closes only a pool of its own', async () => {
    const passed = recordingPool();
    await createExpressionEvaluator({ pool: passed.pool }).close();
    expect(passed.closed()).toBe(0);
  });
});
