// What a live feed's failure becomes for a subscriber: a GraphQL error that passes yoga's masking.
import { GraphQLError } from 'graphql';
import { SubscriberTooSlowError } from '../pubsub.js';

export function liveFeedError(error: unknown): unknown {
  if (error instanceof SubscriberTooSlowError) {
    // No originalError: yoga would mask a GraphQLError wrapping a plain Error.
    return new GraphQLError(error.message, { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
  }
  return error;
}
