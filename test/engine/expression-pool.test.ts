// The expression worker pool: the bounds enforced in its threads (result size to the byte, heap,
// JSONata's depth and sequence bounds), a thread terminated by an abort replaced, the pool closed for good.
import { afterAll, describe, expect, it } from 'vitest';
import { ExpressionLimitError } from '../../src/engine/expression-limits.js';
import { createExpressionPool } from '../../src/engine/expression-pool.js';

const pool = createExpressionPool({ memoryMb: 32, workers: 2 });
afterAll(() => pool.close());

const never = new AbortController().signal;
const task = (source: string, resultBytes = 1024) => ({ source, input: { i: 1 }, nodes: { a: { x: 5 } }, resultBytes });
const run = (source: string, resultBytes?: number) => pool.run(task(source, resultBytes), never);

describe('expression pool', () => {
  it('evaluates in a worker with $input, $nodes and $run, answering JSON text', async () => {
    expect(await run('{ "i": $input.i + 1, "x": $nodes.a.x }')).toEqual({ ok: true, json: '{"i":2,"x":5}' });
    expect(await pool.run({ ...task('$run.id'), run: { id: 'r1', input: null } }, never)).toEqual({ ok: true, json: '"r1"' });
    expect(await run('$input.missing')).toEqual({ ok: true, json: undefined });
    expect(await run('$input.i + "a"')).toMatchObject({ ok: false, message: expect.stringMatching(/^failed: .*\+/) });
    expect(pool.threads).toBe(2);
  });

  it('allows a result of exactly EXPRESSION_RESULT_BYTES and refuses one byte more, counting UTF-8 bytes', async () => {
    // A string of n characters is n + 2 bytes of JSON.
    expect(await run('$pad("", 1022, "x")')).toMatchObject({ ok: true });
    const over = await run('$pad("", 1023, "x")');
    expect(over).toEqual({ ok: false, limit: 'result', message: 'gave a result larger than 1024 bytes (EXPRESSION_RESULT_BYTES)' });
    // 511 two-byte characters: 513 code units with the quotes, 1024 bytes; one more is 1026.
    expect(await run('$pad("", 511, "é")')).toMatchObject({ ok: true });
    expect(await run('$pad("", 512, "é")')).toMatchObject({ ok: false, limit: 'result' });
    // Shared references: 3 bytes in memory per item, far more as text; refused before serialising.
    expect(await run('( $s := $pad("", 600, "x"); [$s, $s] )', 1 << 20)).toMatchObject({ ok: true });
    expect(await run('( $s := $pad("", 600, "x"); [1..5000].$s )', 1 << 20)).toMatchObject({ ok: false, limit: 'result' });
  });

  it("fails on JSONata's depth and sequence bounds", async () => {
    expect(await run('($f := function($n) { 1 + $f($n + 1) }; $f(0))')).toEqual({
      ok: false,
      limit: 'depth',
      message: 'exceeded the depth limit of 500 nested calls (JSONata stack bound)',
    });
    expect(await run('$count([1..1000001])')).toMatchObject({ ok: false, limit: 'sequence' });
    expect(await run('$count([1..1000000])')).toEqual({ ok: true, json: '1000000' });
  });

  it('terminates the thread of an aborted task and replaces it; the other tasks go on', async () => {
    const controller = new AbortController();
    const endless = pool.run(task('( $f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(40) )'), controller.signal);
    // The other thread keeps answering while one is busy.
    expect(await run('1 + 1')).toEqual({ ok: true, json: '2' });
    const reason = new Error('time is up');
    controller.abort(reason);
    await expect(endless).rejects.toBe(reason);
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => run(`${i} * 2`)));
    expect(answers.map((answer) => answer.ok && answer.json)).toEqual(['0', '2', '4', '6']);
    expect(pool.threads).toBe(2);
  });

  it('fails a task that outgrows the heap with the memory limit, and goes on', async () => {
    // Strings doubling, each one copied: 26 × 2^n characters, 0.85 MB at n = 15, 54 MB at n = 21.
    const grow = (n: number) => `( $f := function($s, $n) { $n = 0 ? $s : $f($uppercase($s & $s), $n - 1) }; $length($f("abcdefghijklmnopqrstuvwxyz", ${n})) )`;
    expect(await run(grow(15))).toEqual({ ok: true, json: String(26 * 2 ** 15) });
    const failure = run(grow(21));
    await expect(failure).rejects.toThrow(ExpressionLimitError);
    await expect(failure).rejects.toThrow('exceeded the memory limit of 32 MB (EXPRESSION_MEMORY_MB)');
    expect(await run('"still here"')).toEqual({ ok: true, json: '"still here"' });
  });

  it('rejects a task whose signal was aborted before it ran', async () => {
    const reason = new Error('cancelled');
    await expect(pool.run(task('1'), AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});

describe('a closed pool', () => {
  it('has no threads left and refuses work', async () => {
    const own = createExpressionPool({ memoryMb: 32, workers: 2 });
    expect(await own.run(task('1'), never)).toEqual({ ok: true, json: '1' });
    expect(own.threads).toBe(2);
    await own.close();
    await own.close(); // idempotent
    expect(own.threads).toBe(0);
    await expect(own.run(task('1'), never)).rejects.toThrow();
  });
});
