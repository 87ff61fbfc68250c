// One execution of a live subscription's operation per event, shared by every subscriber of its group:
// the result, masked as yoga masks a subscription's results, and its JSON text, serialized once.
import { execute, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { maskError } from 'graphql-yoga';

/** An event executed for a group: the result, and the `next` payload's JSON text (made on first use). */
export interface Rendered {
  readonly result: ExecutionResult;
  payload(): string;
}

/** The operation as the client sent it (variables raw, as graphql-ws and yoga received them). */
export interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues?: Readonly<Record<string, unknown>> | null | undefined;
  operationName?: string | null | undefined;
}

/** Yoga's error masking (an unexpected error becomes "Unexpected error."). */
export type MaskError = (error: GraphQLError) => GraphQLError;

/** Masks as yoga does with `maskedErrors: { isDev: false }`, logging what it hides. */
export function yogaMask(log: (message: string, data?: Record<string, unknown>) => void): MaskError {
  return (error) => {
    const masked = maskError(error, 'Unexpected error.', false) as GraphQLError;
    if (masked !== error) log('a live subscription event failed', { error: String(error.originalError ?? error) });
    return masked;
  };
}

export type Render<T> = (source: T) => Rendered | Promise<Rendered>;

function rendered(result: ExecutionResult, mask: MaskError): Rendered {
  let text: string | undefined;
  // As graphql-ws shapes a `next` payload: the result, with its errors (if any) after the data.
  const { errors, ...rest } = result;
  const shaped: ExecutionResult = errors ? { ...rest, errors: errors.map(mask) } : result;
  return {
    result: shaped,
    payload: () => (text ??= JSON.stringify(shaped)),
  };
}

/**
 * Executes the operation of `args` with each source value as the subscription root value, as
 * graphql's subscribe does for every event, in `contextValue`.
 */
export function createRender<T>(args: OperationArgs, contextValue: unknown, mask: MaskError): Render<T> {
  const failed = (error: unknown) =>
    rendered({ errors: [error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.', { originalError: error as Error })] }, mask);
  return (source) => {
    try {
      const result = execute({
        schema: args.schema,
        document: args.document,
        variableValues: args.variableValues,
        operationName: args.operationName,
        contextValue,
        rootValue: source,
      });
      return result instanceof Promise ? result.then((value) => rendered(value, mask), failed) : rendered(result, mask);
    } catch (error) {
      return failed(error);
    }
  };
}
