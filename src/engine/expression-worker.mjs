// The task an expression worker thread runs (loaded by piscina): compiles (cached) and evaluates one
// JSONata expression under JSONata's depth and sequence bounds, and answers its result as JSON text
// of bounded size. Time and memory are bounded from outside: the pool terminates the thread.
// Plain JavaScript so that a thread starts without a TypeScript loader (tsx in a thread costs
// seconds of CPU; this file and jsonata load in a tenth of that); types in expression-worker.d.mts.
import jsonata from 'jsonata';

/** JSONata's own bounds: call depth, and the length of any sequence or array it builds. */
export const jsonataBounds = Object.freeze({ stack: 500, sequence: 1_000_000 });

const CACHE_LIMIT = 1_000;
/** @type {Map<string, import('jsonata').Expression>} */
const cache = new Map();

function compile(source) {
  let expression = cache.get(source);
  if (expression === undefined) {
    expression = jsonata(source, jsonataBounds);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value);
    cache.set(source, expression);
  }
  return expression;
}

/** jsonata throws plain objects `{ code, position, message }`; this makes one line of any of them. */
export function jsonataMessage(error) {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, position } = error;
  const text = typeof message === 'string' && message ? message : String(error);
  return typeof position === 'number' ? `${text} (at position ${position})` : text;
}

/** JSONata's codes for its own bounds, as the limit they stand for. */
function boundOf(error) {
  const code = typeof error === 'object' && error !== null ? error.code : undefined;
  if (code === 'D1011') {
    return { limit: 'depth', message: `exceeded the depth limit of ${jsonataBounds.stack} nested calls (JSONata stack bound)` };
  }
  if (code === 'D2014' || code === 'D2015') {
    return { limit: 'sequence', message: `exceeded the sequence limit of ${jsonataBounds.sequence} items (JSONata sequence bound)` };
  }
  return null;
}

/** Evaluates one task; never throws (the answer says what failed). */
export default async function evaluateTask(task) {
  let result;
  try {
    result = await compile(task.source).evaluate(task.input, { input: task.input, nodes: task.nodes, run: task.run });
  } catch (error) {
    const bound = boundOf(error);
    if (bound) return { ok: false, ...bound };
    return { ok: false, message: `failed: ${jsonataMessage(error)}` };
  }
  return resultAnswer(result, task.resultBytes);
}

/**
 * The answer for a result: its JSON text (undefined for "no value"; functions dropped, since JSONata
 * lambdas hold a circular environment; non-finite numbers null), or the result limit when the text
 * would be longer than `maxBytes` UTF-8 bytes (Infinity: no limit, no check). A lower bound of the
 * length is walked first, stopping at the limit, so a result of shared references (`[$x, $x, …]`)
 * far larger as text than in memory is refused without being serialised.
 */
export function resultAnswer(value, maxBytes) {
  if (maxBytes !== Number.POSITIVE_INFINITY && jsonLengthAtLeast(value, maxBytes + 1)) return tooLarge(maxBytes);
  const json = JSON.stringify(value, (_key, item) => (isFunction(item) ? undefined : item));
  if (json !== undefined && maxBytes !== Number.POSITIVE_INFINITY && Buffer.byteLength(json) > maxBytes) return tooLarge(maxBytes);
  return { ok: true, json };
}

function tooLarge(maxBytes) {
  return { ok: false, limit: 'result', message: `gave a result larger than ${maxBytes} bytes (EXPRESSION_RESULT_BYTES)` };
}

function isFunction(item) {
  if (typeof item === 'function') return true;
  return typeof item === 'object' && item !== null && ('_jsonata_lambda' in item || '_jsonata_function' in item);
}

/**
 * Whether the JSON text of `value` has at least `bound` characters, counting a lower bound of each
 * part (a string's code units and quotes, a number's digits, punctuation). Iterative; stops as soon
 * as the bound is reached, so it costs at most about `bound` steps.
 */
function jsonLengthAtLeast(value, bound) {
  let length = 0;
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') length += item.length + 2;
    else if (typeof item === 'number') length += Number.isFinite(item) ? String(item).length : 4;
    else if (typeof item === 'boolean') length += item ? 4 : 5;
    else if (item === null) length += 4;
    else if (Array.isArray(item)) {
      length += 1 + item.length;
      if (length >= bound) return true;
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    } else if (typeof item === 'object' && !isFunction(item)) {
      const keys = Object.keys(item);
      length += 1 + keys.length;
      if (length >= bound) return true;
      for (const key of keys) {
        const member = item[key];
        if (member === undefined || isFunction(member)) continue;
        length += key.length + 3;
        stack.push(member);
      }
    }
    if (length >= bound) return true;
  }
  return false;
}
