// The `{{ expression }}` template syntax of string params: splitting a string into text and expressions.
// Pure text work; evaluating the expressions is expressions.ts's job.

/** A piece of a template string: literal text, or the source of one JSONata expression. */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expression'; source: string };

/** Whether `text` holds at least one `{{`, the cheap test before any parsing. */
export function mayHoldTemplate(text: string): boolean {
  return text.includes('{{');
}

/**
 * Splits `text` into literal text and `{{ … }}` expressions (sources trimmed). The closing `}}` is
 * found brace- and quote-aware, so `{{ {"a": {"b": 1}} }}` is one expression. A `{{` that never
 * closes is literal text. There is no escape: a string param cannot hold a literal closed `{{ }}`.
 */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let from = 0;
  while (from < text.length) {
    const open = text.indexOf('{{', from);
    const close = open < 0 ? -1 : findClose(text, open + 2);
    if (close < 0) break;
    if (open > from) parts.push({ kind: 'text', text: text.slice(from, open) });
    parts.push({ kind: 'expression', source: text.slice(open + 2, close).trim() });
    from = close + 2;
  }
  if (from < text.length) parts.push({ kind: 'text', text: text.slice(from) });
  return parts;
}

/** The expression source when `text` is exactly one `{{ … }}` (whitespace around allowed), else null. */
export function wholeTemplate(text: string): string | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{{')) return null;
  const close = findClose(trimmed, 2);
  return close === trimmed.length - 2 ? trimmed.slice(2, close).trim() : null;
}

/** The expression sources of every template in `text`, in order. */
export function templateSources(text: string): string[] {
  if (!mayHoldTemplate(text)) return [];
  return parseTemplate(text).flatMap((part) => (part.kind === 'expression' ? [part.source] : []));
}

/** Index of the `}}` closing a template whose body starts at `from`, or -1. */
function findClose(text: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      if (depth > 0) depth--;
      else if (text[i + 1] === '}') return i;
    }
  }
  return -1;
}
