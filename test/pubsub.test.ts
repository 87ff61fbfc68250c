// The pubsub's bound per subscriber: exactly `maxQueue` undelivered values are kept; the next one
// drops the subscriber, which then fails its next read with SubscriberTooSlowError.
import { describe, expect, it } from 'vitest';
import { createPubSub, SubscriberTooSlowError } from '../src/pubsub.js';

describe('createPubSub', () => {
  it('keeps maxQueue undelivered values and drops the subscriber at the one after', async () => {
    const dropped: string[] = [];
    const pubsub = createPubSub<number>({ maxQueue: 5, onDrop: (topic) => dropped.push(topic) });
    const slow = pubsub.subscribe('run-1');
    const other = pubsub.subscribe('run-1');

    // The other subscriber reads as fast as values come: it is never dropped.
    const read: number[] = [];
    for (let value = 1; value <= 5; value++) {
      pubsub.publish('run-1', value);
      read.push((await other.next()).value as number);
    }
    expect(pubsub.droppedCount()).toBe(0);
    expect(pubsub.subscriberCount('run-1')).toBe(2);

    pubsub.publish('run-1', 6);
    expect(pubsub.droppedCount()).toBe(1);
    expect(dropped).toEqual(['run-1']);
    expect(pubsub.subscriberCount('run-1')).toBe(1);
    const error = await slow.dropped;
    expect(error).toBeInstanceOf(SubscriberTooSlowError);
    expect(error.queued).toBe(5);
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);

    read.push((await other.next()).value as number);
    expect(read).toEqual([1, 2, 3, 4, 5, 6]);
    pubsub.close();
  });

  it('counts only what is undelivered: a subscriber that reads keeps its place', async () => {
    const pubsub = createPubSub<number>({ maxQueue: 2 });
    const subscriber = pubsub.subscribe('t');
    pubsub.publish('t', 1);
    pubsub.publish('t', 2);
    expect((await subscriber.next()).value).toBe(1);
    pubsub.publish('t', 3);
    expect(pubsub.droppedCount()).toBe(0);
    pubsub.publish('t', 4);
    expect(pubsub.droppedCount()).toBe(1);
    pubsub.close();
  });
});
