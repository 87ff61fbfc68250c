// The GraphQL document limits: envelop plugins, so that HTTP (GET and POST), SSE and graphql-ws (which
// parses and validates through yoga's envelop) refuse the same documents with the same errors. Every
// refusal is a GraphQLError with extensions.code QUERY_TOO_COMPLEX (HTTP 400) naming the limit.
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type ExecutionResult, type Source } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { nestingOf, shapeOf, subscriptionSelectsNothing } from './document-shape.js';
import { inputCostOf } from './input-cost.js';

/** The extensions.code of every limit refusal. */
export const limitCode = 'QUERY_TOO_COMPLEX';

/** Which limit refused a document (extensions.limit). */
export type LimitName = 'tokens' | 'nesting' | 'depth' | 'comparisons' | 'cost' | 'inputCost' | 'aliases' | 'directives';

/** Brackets ({, [, () nested deeper than this are refused before parsing: the parser recurses on them. */
export const maxNesting = 200;
/** Pairs of fields graphql-js may have to compare to check that they merge (see document-shape.ts). */
export const maxFieldComparisons = 10_000;

/** A limit's refusal: 400 over HTTP whatever the Accept header, an `error` message over graphql-ws. */
export function limitError(limit: LimitName, max: number, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: limitCode, limit, max, http: { status: 400, spec: false } } });
}

/** graphql-armor rejects with "Syntax Error: <message>"; ours keeps the message under our code. */
function rejectAs(limit: LimitName, max: number) {
  return (_context: unknown, error: GraphQLError) => {
    throw limitError(limit, max, error.message.replace(/^Syntax Error: /, ''));
  };
}

const stackOverflow = (error: unknown) => error instanceof RangeError && /call stack/i.test(error.message);

function tooNested(): GraphQLError {
  return limitError('nesting', maxNesting, `Nesting limit of ${maxNesting} brackets exceeded.`);
}

/** A parse failure as a client error: the token limit, a stack overflow, or a syntax error with its code. */
function parseFailure(error: unknown, maxTokens: number): unknown {
  if (stackOverflow(error)) return tooNested();
  if (!(error instanceof GraphQLError)) return error;
  if (/more th[ae]n \d+ tokens/.test(error.message)) return limitError('tokens', maxTokens, `Token limit of ${maxTokens} exceeded.`);
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: 'GRAPHQL_PARSE_FAILED', http: { status: 400, spec: true } },
  });
}

/** Errors of a result without a path and without a code are the variables' coercion errors: BAD_USER_INPUT. */
function withInputCodes(result: ExecutionResult): ExecutionResult | null {
  if (!result.errors?.some((error) => error.path === undefined && error.extensions.code === undefined)) return null;
  const errors = result.errors.map((error) =>
    error.path === undefined && error.extensions.code === undefined
      ? new GraphQLError(error.message, {
          nodes: error.nodes ?? null,
          source: error.source ?? null,
          positions: error.positions ?? null,
          originalError: error.originalError ?? null,
          extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
        })
      : error,
  );
  return { ...result, errors };
}

interface LimitContext {
  params?: { operationName?: string | null; variables?: unknown };
}

/**
 * Runs before graphql-js's parser and rules: the bracket nesting and the token limit at parse, then the
 * shape of the document (fragment cycles, depth, field comparisons) by iterative walks before any
 * recursive rule, and after validation the input cost, which depends on the variables and so is never
 * part of the validation cache. A stack overflow left anywhere in parse or validation is a client error.
 */
function documentGuard(config: Config): Plugin<LimitContext> {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source: string | Source, options) => {
        const text = typeof source === 'string' ? source : source.body;
        if (nestingOf(text, maxNesting) > maxNesting) throw tooNested();
        try {
          return parseFn(source, { ...options, maxTokens: config.maxQueryTokens });
        } catch (error) {
          throw parseFailure(error, config.maxQueryTokens);
        }
      });
    },
    onValidate({ params, context, setResult, validateFn, setValidationFn }) {
      const problem = shapeOf(params.documentAST, { maxDepth: config.maxQueryDepth, maxComparisons: maxFieldComparisons });
      if (problem?.kind === 'cycle') {
        const message = `Cannot spread fragment "${problem.fragment}" within itself.`;
        setResult([new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
        return;
      }
      if (problem?.kind === 'depth') {
        const max = config.maxQueryDepth;
        setResult([limitError('depth', max, `Query depth limit of ${max} exceeded, found ${problem.found}.`)]);
        return;
      }
      if (problem?.kind === 'comparisons') {
        const message = `Field comparison limit of ${maxFieldComparisons} exceeded, found ${problem.found}: too many fields share a name or too many fragments are spread side by side.`;
        setResult([limitError('comparisons', maxFieldComparisons, message)]);
        return;
      }
      setValidationFn((...args) => {
        try {
          return validateFn(...args);
        } catch (error) {
          if (stackOverflow(error)) throw tooNested();
          // A rule may throw instead of reporting (SingleFieldSubscriptionsRule on `@skip(if: $v)` at a
          // subscription's root): still the document's fault.
          if (error instanceof GraphQLError && error.extensions.code === undefined) {
            throw new GraphQLError(error.message, {
              nodes: error.nodes ?? null,
              extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400, spec: false } },
            });
          }
          throw error;
        }
      });
      return ({ valid }) => {
        if (!valid) return;
        const cost = inputCostOf(params.schema, params.documentAST, context.params?.operationName, context.params?.variables);
        if (cost > config.maxQueryCost) {
          throw limitError('inputCost', config.maxQueryCost, `Input cost limit of ${config.maxQueryCost} exceeded, found ${cost}.`);
        }
      };
    },
    // yoga's parse-error handling marks errors as "spec" ones (200 when the client accepts only
    // application/json, and over SSE); a limit's refusal stays a 400 whatever the client accepts.
    onResultProcess({ result }) {
      for (const item of Array.isArray(result) ? result : [result]) {
        if (!('errors' in item) || !item.errors) continue;
        for (const error of item.errors) {
          const extensions = error.extensions as Record<string, unknown> | undefined;
          if (extensions?.code === limitCode) extensions.http = { status: 400, spec: false };
        }
      }
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const coded = withInputCodes(result);
          if (coded) setResult(coded);
        },
      };
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (subscriptionSelectsNothing(args.document, args.operationName, args.variableValues)) {
        const message = 'A subscription must select one root field; @skip or @include left none.';
        setResultAndStopExecution({ errors: [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })] });
        return;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const coded = withInputCodes(result);
          if (coded) setResult(coded);
        },
      };
    },
  };
}

/** Every document limit of `config`, in the order they must run (the token limit wraps the parser first). */
export function limitPlugins(config: Config): Plugin<LimitContext>[] {
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  return [
    maxTokensPlugin({ ...common, n: config.maxQueryTokens, onReject: [rejectAs('tokens', config.maxQueryTokens)] }),
    documentGuard(config),
    costLimitPlugin({ ...common, maxCost: config.maxQueryCost, onReject: [rejectAs('cost', config.maxQueryCost)] }),
    maxAliasesPlugin({ ...common, n: config.maxQueryAliases, onReject: [rejectAs('aliases', config.maxQueryAliases)] }),
    maxDirectivesPlugin({ ...common, n: config.maxQueryDirectives, onReject: [rejectAs('directives', config.maxQueryDirectives)] }),
  ];
}
