import { EVENT, JOB, QUEUE, QUEUE_JOBS } from '@subscribernest/shared';
import {
  assertEveryJobHasAHandler,
  findJobHandlerProblems,
  JobHandlerCoverageError,
} from './job-handler-coverage';

describe('the start-up job handler check', () => {
  it('passes when every processed queue handles every job name of the shared contract', () => {
    expect(() =>
      assertEveryJobHasAHandler([
        {
          queue: QUEUE.domainEvents,
          declaredQueue: QUEUE.domainEvents,
          jobNames: [...QUEUE_JOBS[QUEUE.domainEvents]],
        },
      ]),
    ).not.toThrow();
  });

  it('covers only the queues this worker processes (a queue it only produces to is not checked)', () => {
    expect(findJobHandlerProblems([])).toEqual([]);
    expect(
      findJobHandlerProblems([
        {
          queue: QUEUE.domainEvents,
          declaredQueue: QUEUE.domainEvents,
          jobNames: [EVENT.syncRequested],
        },
      ]),
    ).toEqual([]);
  });

  it('fails with one message naming the queue and each job name that has no handler', () => {
    const contract = { [QUEUE.email]: [JOB.loginCode, JOB.signInNotification] };
    let thrown: unknown;
    try {
      assertEveryJobHasAHandler(
        [{ queue: QUEUE.email, declaredQueue: QUEUE.email, jobNames: [JOB.loginCode] }],
        contract,
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(JobHandlerCoverageError);
    expect((thrown as Error).message).toBe(
      'Job handler check failed: queue "email" has no handler for job "sign-in-notification"',
    );
  });

  it('checks against the real shared contract by default', () => {
    expect(() =>
      assertEveryJobHasAHandler([
        { queue: QUEUE.subscriberSync, declaredQueue: QUEUE.subscriberSync, jobNames: [] },
      ]),
    ).toThrow('queue "subscriber-sync" has no handler for job "sync-publication"');
  });

  it('reports every problem at once: unknown queues, mismatched and duplicate processors', () => {
    expect(
      findJobHandlerProblems([
        { queue: 'reports', declaredQueue: 'reports', jobNames: ['weekly'] },
        { queue: QUEUE.billing, declaredQueue: QUEUE.email, jobNames: [JOB.closePeriod] },
        { queue: QUEUE.billing, declaredQueue: QUEUE.billing, jobNames: [JOB.closePeriod] },
      ]),
    ).toEqual([
      'queue "reports" is not in the shared queue contract (QUEUE_JOBS)',
      'a processor declared for queue "email" consumes "billing"',
      'queue "billing" has more than one processor',
    ]);
  });
});
