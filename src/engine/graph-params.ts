// Checking one node's params against its type before any run: the type's schema (a whole `{{ }}`
// string may stand for any value), every expression and template parses, secrets are referenced only
// where they may be, and the handles the params imply.
import { checkExpression, templateExpressions } from './expressions.js';
import type { NodeView } from './graph-definition.js';
import { mapStrings, valueAt } from './json-walk.js';
import { BARE_EXPRESSION_MISUSE, mentionsSecrets, secretMisuse } from './secret-refs.js';
import type { NodeType } from './nodes/node-type.js';
import { mayHoldTemplate, wholeTemplate } from './template-syntax.js';
import { nodeLabel, q, type IssueList } from './validation-issues.js';

// Stands in for a whole-template string while the schema runs: issues landing on it are ignored,
// since the template's value is only known at run time (and is checked then).
const TEMPLATE = Symbol('template');
const bareByType = new WeakMap<NodeType, ReadonlySet<string>>();

/** A node type's expression params as a set (cached: validation asks once per node). */
function bareParams(nodeType: NodeType): ReadonlySet<string> {
  let bare = bareByType.get(nodeType);
  if (!bare) bareByType.set(nodeType, (bare = new Set(nodeType.expressionParams ?? [])));
  return bare;
}

function report(issues: IssueList, node: NodeView, path: readonly string[], message: string): void {
  const at = ['params', ...path];
  issues.add(['nodes', String(node.index), ...at], node.id, `${nodeLabel(node.id)}: ${at.join('.')}: ${message}`);
}

/**
 * Reports every issue of `params` under `nodes.<i>.params` and returns the node's handles:
 * null for a type without handles, undefined when the params are too broken to tell.
 */
export function checkNodeParams(
  params: Record<string, unknown>,
  node: NodeView,
  nodeType: NodeType,
  issues: IssueList,
): readonly string[] | null | undefined {
  const bare = bareParams(nodeType);
  let hasTemplates = false;
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (bare.has(key)) {
      const error = typeof value === 'string' && value !== '' ? checkExpression(value) : null;
      if (error !== null) report(issues, node, [key], `expression does not parse: ${error}`);
      else if (typeof value === 'string' && mentionsSecrets(value)) report(issues, node, [key], BARE_EXPRESSION_MISUSE);
      continue;
    }
    if (typeof value === 'string' ? !mayHoldTemplate(value) : typeof value !== 'object' || value === null) continue;
    for (const { source, path } of templateExpressions(value)) {
      hasTemplates = true;
      const error = checkExpression(source);
      const shown = source.length > 60 ? `${source.slice(0, 57)}...` : source;
      const misuse = error === null ? secretMisuse(source, key, nodeType) : null;
      if (error !== null) report(issues, node, [key, ...path], `template {{ ${shown} }} does not parse: ${error}`);
      else if (misuse !== null) report(issues, node, [key, ...path], `template {{ ${shown} }}: ${misuse}`);
      else if (nodeType.handles) {
        const text = `a ${nodeType.type} node's params decide its handles and cannot hold templates`;
        report(issues, node, [key, ...path], text);
      }
    }
  }

  // Types with handles get their params literally (templates are refused above).
  const checked =
    hasTemplates && !nodeType.handles
      ? Object.fromEntries(
          Object.entries(params).map(([key, value]) => [
            key,
            bare.has(key) ? value : mapStrings(value, (text) => (wholeTemplate(text) === null ? text : TEMPLATE)),
          ]),
        )
      : params;
  const parsed = nodeType.params.safeParse(checked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (valueAt(checked, issue.path) === TEMPLATE) continue;
      const path = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          report(issues, node, [...path, key], `unknown param ${q(key)} for a ${nodeType.type} node`);
        }
      } else {
        report(issues, node, path, issue.message);
      }
    }
  }
  if (!nodeType.handles) return null;
  if (!parsed.success || hasTemplates) return undefined;
  return nodeType.handles(parsed.data);
}
