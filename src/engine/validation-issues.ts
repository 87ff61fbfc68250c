// Collecting a definition's validation issues, with the labels that name nodes and edges in messages.
import type { ValidationIssue } from './errors.js';

/** Past this many issues the rest are summed up in one last issue (a garbage definition can have millions). */
export const MAX_ISSUES = 1000;

/** Where validation puts its issues. */
export interface IssueList {
  add(path: string[], nodeId: string | null, message: string): void;
  /** Every issue, capped at MAX_ISSUES plus one summary issue. */
  all(): ValidationIssue[];
}

export function createIssueList(): IssueList {
  const issues: ValidationIssue[] = [];
  let dropped = 0;
  return {
    add(path, nodeId, message) {
      if (issues.length < MAX_ISSUES) issues.push({ path, nodeId, message });
      else dropped++;
    },
    all: () =>
      dropped === 0 ? issues : [...issues, { path: [], nodeId: null, message: `and ${dropped} more issues not listed` }],
  };
}

/** A name or value quoted for a message, cut short when long. */
export function q(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 97)}...` : value);
}

/** `node "a"` */
export function nodeLabel(id: string): string {
  return `node ${q(id)}`;
}

/** `edge 2 ("a" → "b")`, or `edge 2` when its ends are not strings. */
export function edgeLabel(index: number | string, source: unknown, target: unknown): string {
  return typeof source === 'string' && typeof target === 'string'
    ? `edge ${index} (${q(source)} → ${q(target)})`
    : `edge ${index}`;
}
