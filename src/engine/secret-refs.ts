// Secret references in params: `{{ $secrets.NAME }}` exactly, in the params a node type allows them in
// (the http node's url, headers, query and body). Which templates are references, which expressions
// misuse `$secrets`, and which names a node references. `$secrets` is never bound when an
// expression is evaluated: a reference is replaced by the engine itself, after every other template.
import { compile } from './expression-compile.js';
import type { NodeType } from './nodes/node-type.js';
import { findStrings } from './json-walk.js';
import { mayHoldTemplate, templateSources } from './template-syntax.js';

const secretName = '[A-Za-z_][A-Za-z0-9_]*';
/** What a secret's name may be. */
export const SECRET_NAME_PATTERN = new RegExp(`^${secretName}$`);
export const MAX_SECRET_NAME_LENGTH = 64;

const whereAllowed = "an http node's url, headers, query or body";
const q = (text: string) => JSON.stringify(text);

const REFERENCE = new RegExp(`^\\$secrets\\.(${secretName})$`);

/**
 * The value of a secret of the run's organization, read at the moment of use; rejects with
 * NonRetriableError naming the secret when there is none of that name (or it cannot be read).
 */
export type SecretReader = (name: string) => Promise<string>;

/** Where a run's secrets come from: its organization's, and nobody else's. */
export interface RunSecrets {
  /** The values of the secrets the run's workflow references, read as it started: redacted from its first step. */
  known: ReadonlyMap<string, string>;
  /** A secret's value now; null when the organization has none of that name. */
  read(name: string): Promise<string | null>;
}

/** The secret's name when a template's (trimmed) source is exactly `$secrets.NAME`, else null. */
export function secretReference(source: string): string | null {
  return REFERENCE.exec(source)?.[1] ?? null;
}

/** Whether an expression uses the variable `$secrets` anywhere (false when it does not parse). */
export function mentionsSecrets(source: string): boolean {
  if (!source.includes('$secrets')) return false;
  let ast: unknown;
  try {
    ast = compile(source).expression.ast();
  } catch {
    return false;
  }
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) stack.push(...item);
    else if (typeof item === 'object' && item !== null) {
      const node = item as Record<string, unknown>;
      if (node.type === 'variable' && node.value === 'secrets') return true;
      for (const key of Object.keys(node)) if (key !== 'type' && key !== 'value') stack.push(node[key]);
    }
  }
  return false;
}

/** Why `source`, a template in param `param` of a `nodeType` node, may not be there; null when it may. */
export function secretMisuse(source: string, param: string, nodeType: NodeType): string | null {
  const name = secretReference(source);
  if (name === null) {
    if (!mentionsSecrets(source)) return null;
    return 'a secret can only be used as exactly {{ $secrets.NAME }}, never inside a larger expression';
  }
  if (!nodeType.secretParams?.includes(param)) return `secrets can only be used in ${whereAllowed}, not in a ${nodeType.type} node's ${q(param)}`;
  if (name.length > MAX_SECRET_NAME_LENGTH) return `secret name ${q(name)} is longer than ${MAX_SECRET_NAME_LENGTH} characters`;
  return null;
}

/** Why a bare expression param (a transform's or condition's `expression`) may not use `$secrets`. */
export const BARE_EXPRESSION_MISUSE = `an expression cannot read $secrets: secrets can only be used as {{ $secrets.NAME }} in ${whereAllowed}`;

/** Adds to `into` the names of the secrets `params` reference where `nodeType` allows them. */
export function paramSecrets(params: Readonly<Record<string, unknown>> | undefined, nodeType: NodeType, into: Set<string>): void {
  if (!nodeType.secretParams || !params) return;
  for (const param of nodeType.secretParams) {
    for (const { text } of findStrings(params[param], mayHoldTemplate)) {
      for (const source of templateSources(text)) {
        const name = secretReference(source);
        if (name !== null) into.add(name);
      }
    }
  }
}
