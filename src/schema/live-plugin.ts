// The envelop plugin that lets a subscription join a live group: it hands the operation to the
// subscription field (through the context's live slot), runs the field, and once the field joined a
// group serves the group member's stream instead of graphql's per-event execution. The plugins before
// it (document and key limits) see the subscription as before. A subscription a group serves stops
// here: yoga's own hooks after this one (error masking) would wrap its stream per subscriber, and the
// group masks its errors itself (live-groups.ts); a subscription no group serves goes on as before.
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import type { LiveContext, LiveGroups } from './live-groups.js';

/**
 * What an idle graphql-ws subscription keeps of its operation once a group serves it: graphql-ws holds
 * the execution arguments until the subscription ends, and nothing reads them again (the group renders
 * with its own copy). Without its context (per-operation caches, the operation's envelop state) and
 * root value, the subscription holds its member and stream only.
 */
function release(args: ExecutionArgs): void {
  args.contextValue = undefined;
  args.rootValue = undefined;
}

export function useLiveGroups(groups: LiveGroups): Plugin<Context> {
  return {
    async onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const context = args.contextValue as LiveContext;
      // graphql-ws put its frames there already; any other transport reads results.
      const slot = (context.live ??= { groups });
      slot.args = {
        schema: args.schema,
        document: args.document,
        variableValues: args.variableValues,
        operationName: args.operationName,
      };
      const result = await subscribeFn(args);
      const stream = slot.stream;
      // No group joined (an error, or a field that does not group): the other plugins see the result.
      if (!stream) return setSubscribeFn(() => result);
      // The field's placeholder: nothing runs per event through it.
      if (Symbol.asyncIterator in result) await (result as AsyncGenerator).return?.(undefined);
      delete context.live;
      if (slot.frames) release(args);
      setResultAndStopExecution(context.services.streams.track(stream) as AsyncIterableIterator<ExecutionResult>);
    },
  };
}
