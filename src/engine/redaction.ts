// Redaction of the secrets a run uses: every occurrence of a value, also in the forms an API is likely
// to echo it in (URL-encoded, form-encoded, JSON-escaped, base64 and base64url, also base64 inside a
// longer encoded text such as a Basic credential), becomes `[secret:NAME]`. The run actor applies it to
// every output and error before successors see them and before anything is stored or published.
import { mapStrings } from './json-walk.js';

/** Replaces the values of the secrets it was told of; a no-op until it knows one. */
export interface Redactor {
  /** Whether it knows any value (when not, `redact` returns its argument untouched). */
  readonly active: boolean;
  /** Learns a secret's value (again: a value may change during a run, both are redacted). */
  add(name: string, value: string): void;
  /** A copy of a JSON value with every string and object key redacted (the value itself while inactive). */
  redact<T>(value: T): T;
  /** `text` redacted. */
  text(text: string): string;
}

/** Shortest base64 fragment redacted inside longer encoded text (shorter ones would match by chance). */
const MIN_FRAGMENT = 8;

/** The forms of `value` to redact: the value itself and how it reads once encoded. */
export function secretForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set([value, encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), encodeURI(value)]);
  forms.add(JSON.stringify(value).slice(1, -1));
  const base64 = bytes.toString('base64');
  forms.add(base64);
  forms.add(base64.replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  // Inside a longer base64 text the value starts at a byte offset of 0, 1 or 2 modulo 3: the characters
  // that only its own bits decide are the same whatever surrounds it.
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes, Buffer.alloc(2)]);
    const first = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    for (const text of [padded.toString('base64'), padded.toString('base64url')]) {
      const fragment = text.slice(first, end);
      if (fragment.length >= MIN_FRAGMENT) forms.add(fragment);
    }
  }
  forms.delete('');
  return [...forms];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createRedactor(): Redactor {
  const nameOf = new Map<string, string>();
  const known = new Map<string, Set<string>>();
  let pattern: RegExp | null = null;

  function text(input: string): string {
    if (pattern === null) return input;
    pattern.lastIndex = 0;
    if (!pattern.test(input)) return input;
    return input.replace(pattern, (form) => `[secret:${nameOf.get(form)}]`);
  }

  return {
    get active() {
      return pattern !== null;
    },
    add(name, value) {
      if (value === '') return;
      const values = known.get(name) ?? new Set();
      if (values.has(value)) return;
      values.add(value);
      known.set(name, values);
      for (const form of secretForms(value)) if (!nameOf.has(form)) nameOf.set(form, name);
      // Longest first, so that a form containing another is replaced whole.
      const forms = [...nameOf.keys()].sort((a, b) => b.length - a.length);
      pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
    },
    redact: <T>(value: T) => (pattern === null ? value : (mapStrings(value, text, text) as T)),
    text,
  };
}
