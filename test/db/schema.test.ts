// The database enums and the engine's unions are one vocabulary: the same words in the same order.
import { describe, expect, it } from 'vitest';
import { branchStatus, runEventType, runStatus, stepStatus } from '../../src/db/schema.js';
import { branchStatuses, runEventTypes, runStatuses, stepStatuses } from '../../src/engine/events.js';

describe('schema enums', () => {
  it.each([
    ['run_status', runStatus.enumValues, runStatuses],
    ['step_status', stepStatus.enumValues, stepStatuses],
    ['branch_status', branchStatus.enumValues, branchStatuses],
    ['run_event_type', runEventType.enumValues, runEventTypes],
  ])('%s holds the engine’s words', (_name, database, engine) => {
    expect([...database]).toEqual([...engine]);
  });
});
