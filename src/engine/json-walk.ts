// Iterative walks over JSON values (find strings, copy with strings replaced). No recursion, so a
// param nested 100,000 levels deep cannot overflow the stack.

/** A string found in a JSON value and the path of keys that leads to it. */
export interface FoundString {
  text: string;
  path: string[];
}

type Container = unknown[] | Record<string, unknown>;

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

// A position in a walk: the key that led here and the position it was found at (a linked list, so a
// deep value costs one small object per level rather than one path copy per level).
interface Step {
  key: string;
  up: Step | null;
}

function pathOf(step: Step | null): string[] {
  const path: string[] = [];
  for (let at = step; at; at = at.up) path.push(at.key);
  return path.reverse();
}

/** Every string in `value` for which `test` holds, with its path, in document order. */
export function findStrings(value: unknown, test: (text: string) => boolean): FoundString[] {
  if (typeof value === 'string') return test(value) ? [{ text: value, path: [] }] : [];
  const found: FoundString[] = [];
  const stack: { value: unknown; at: Step | null }[] = [{ value, at: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') found.push({ text: item.value, path: pathOf(item.at) });
    else if (isContainer(item.value)) {
      const keys = Object.keys(item.value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const child = (item.value as Record<string, unknown>)[key];
        if (typeof child === 'string' ? test(child) : isContainer(child)) {
          stack.push({ value: child, at: { key, up: item.at } });
        }
      }
    }
  }
  return found;
}

/**
 * A copy of `value` with every string replaced by `map(text)` (and every object key by `mapKey(key)`).
 * A replacement of `undefined` drops the key from an object and becomes `null` in an array, as JSON would.
 */
export function mapStrings(value: unknown, map: (text: string) => unknown, mapKey?: (key: string) => string): unknown {
  const stack: [Container, Container][] = [];
  const convert = (child: unknown): unknown => {
    if (typeof child === 'string') return map(child);
    if (!isContainer(child)) return child;
    const copy: Container = Array.isArray(child) ? [] : {};
    stack.push([child, copy]);
    return copy;
  };
  const root = convert(value);
  while (stack.length > 0) {
    const [source, target] = stack.pop()!;
    if (Array.isArray(source)) {
      for (const child of source) (target as unknown[]).push(convert(child) ?? null);
    } else {
      for (const [key, child] of Object.entries(source)) {
        const out = convert(child);
        // defineProperty: a plain assignment to "__proto__" would set the prototype instead.
        if (out === undefined) continue;
        Object.defineProperty(target, mapKey ? mapKey(key) : key, { value: out, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return root;
}

/** The value at `path` inside `value`, or undefined. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isContainer(current) || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** What PostgreSQL cannot store in text or jsonb: a NUL character, or half of a UTF-16 surrogate pair. */
export type Unstorable = 'nul' | 'lone-surrogate';

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unstorableIn(text: string): Unstorable | null {
  if (text.includes('\u0000')) return 'nul';
  return loneSurrogate.test(text) ? 'lone-surrogate' : null;
}

/** How an unstorable character reads in a message. */
export function describeUnstorable(kind: Unstorable): string {
  return kind === 'nul' ? 'a NUL character (U+0000)' : 'a lone UTF-16 surrogate (half of a character)';
}

/**
 * The first string or key in `value` holding what PostgreSQL cannot store in text or jsonb (a NUL
 * character; a lone surrogate, which jsonb refuses), with its path; null when there is none.
 */
export function findUnstorable(value: unknown): { path: string[]; kind: Unstorable } | null {
  if (typeof value === 'string') {
    const kind = unstorableIn(value);
    return kind ? { path: [], kind } : null;
  }
  if (!isContainer(value)) return null;
  const stack: { value: Container; at: Step | null }[] = [{ value, at: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    for (const key of Object.keys(item.value)) {
      const child = (item.value as Record<string, unknown>)[key];
      const at: Step = { key, up: item.at };
      const kind = unstorableIn(key) ?? (typeof child === 'string' ? unstorableIn(child) : null);
      if (kind) return { path: pathOf(at), kind };
      if (isContainer(child)) stack.push({ value: child, at });
    }
  }
  return null;
}

/**
 * The path to the first container (object or array) in `value` nested more than `maxDepth` levels
 * deep (the outermost container is level 1), or null when none is. Stops at the first one found,
 * so a value nested a million levels costs `maxDepth` steps down that branch, not a million.
 */
export function findDeeperThan(value: unknown, maxDepth: number): string[] | null {
  if (!isContainer(value)) return null;
  if (maxDepth < 1) return [];
  const stack: { value: Container; depth: number; at: Step | null }[] = [{ value, depth: 1, at: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    for (const key of Object.keys(item.value)) {
      const child = (item.value as Record<string, unknown>)[key];
      if (!isContainer(child)) continue;
      const at: Step = { key, up: item.at };
      if (item.depth + 1 > maxDepth) return pathOf(at);
      stack.push({ value: child, depth: item.depth + 1, at });
    }
  }
  return null;
}
