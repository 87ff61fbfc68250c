// The envelop plugin that lets a subscription join a live group: it hands the operation to the
// subscription field (through the context's live slot) and, once the field joined a group, serves the
// group member's stream instead of graphql's per-event execution. Every other plugin (masking, limits)
// sees the subscription as before.
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';
import type { LiveContext, LiveGroups } from './live-groups.js';

export function useLiveGroups(groups: LiveGroups): Plugin<Context> {
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const context = args.contextValue as LiveContext;
      // graphql-ws put its frames there already; any other transport reads results.
      const slot = (context.live ??= { groups });
      slot.args = {
        schema: args.schema,
        document: args.document,
        variableValues: args.variableValues,
        operationName: args.operationName,
      };
      setSubscribeFn(async (subscribeArgs) => {
        const result = await subscribeFn(subscribeArgs);
        const stream = slot.stream;
        if (!stream) return result;
        // The field's placeholder: nothing runs per event through it.
        if (Symbol.asyncIterator in result) await (result as AsyncGenerator).return?.(undefined);
        return context.services.streams.track(stream) as AsyncGenerator;
      });
    },
  };
}
