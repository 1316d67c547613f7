import { DEFAULT_JOB_OPTIONS, jobOptionsFor } from './job-options';
import { QUEUE } from './queue-names';

describe('job options', () => {
  it('take the sync attempts and backoff from the configuration', () => {
    const options = jobOptionsFor({ SYNC_JOB_ATTEMPTS: 3, SYNC_JOB_BACKOFF_MS: 500 });
    expect(options[QUEUE.subscriberSync]).toMatchObject({
      attempts: 3,
      backoff: { type: 'exponential', delay: 500 },
    });
    // The other queues keep their fixed options.
    expect(options[QUEUE.email]).toEqual(DEFAULT_JOB_OPTIONS[QUEUE.email]);
  });

  it('default to five sync attempts, 30 s apart and doubling, with bounded retention', () => {
    expect(DEFAULT_JOB_OPTIONS[QUEUE.subscriberSync]).toEqual({
      attempts: 5,
      backoff: { type: 'exponential', delay: 30_000 },
      removeOnComplete: { age: 86_400, count: 1_000 },
      removeOnFail: { age: 604_800, count: 5_000 },
      stackTraceLimit: 0,
    });
  });

  it('keep no stack trace in Redis on any queue (paths; the queue board would show them)', () => {
    for (const options of Object.values(DEFAULT_JOB_OPTIONS)) {
      expect(options.stackTraceLimit).toBe(0);
    }
  });
});
