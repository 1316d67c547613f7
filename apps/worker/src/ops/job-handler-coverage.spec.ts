import { EVENT, JOB, QUEUE, QUEUE_JOBS } from '@subscribernest/shared';
import {
  assertEveryJobHasAHandler,
  findJobHandlerProblems,
  JobHandlerCoverageError,
} from './job-handler-coverage';

/** Every queue of the shared contract with every one of its job names handled. */
const everyQueue = () =>
  Object.entries(QUEUE_JOBS).map(([queue, names]) => ({
    queue,
    declaredQueue: queue,
    jobNames: [...names],
  }));

describe('the start-up job handler check', () => {
  it('passes when every queue of the shared contract has a processor handling each job name', () => {
    expect(() => assertEveryJobHasAHandler(everyQueue())).not.toThrow();
  });

  it('fails for a queue of the contract that has no processor in this worker', () => {
    const withoutEmail = everyQueue().filter(({ queue }) => queue !== QUEUE.email);
    expect(findJobHandlerProblems(withoutEmail)).toEqual([
      'queue "email" has no processor in this worker',
    ]);
    expect(findJobHandlerProblems([])).toHaveLength(Object.keys(QUEUE_JOBS).length);
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
    const contract = { [QUEUE.domainEvents]: [EVENT.syncRequested] };
    expect(
      findJobHandlerProblems(
        [{ queue: QUEUE.domainEvents, declaredQueue: QUEUE.domainEvents, jobNames: [] }],
        contract,
      ),
    ).toEqual(['queue "domain-events" has no handler for job "sync-requested"']);
    expect(() =>
      assertEveryJobHasAHandler(
        everyQueue().map((queue) =>
          queue.queue === QUEUE.subscriberSync ? { ...queue, jobNames: [] } : queue,
        ),
      ),
    ).toThrow('queue "subscriber-sync" has no handler for job "sync-publication"');
  });

  it('reports every problem at once: unknown queues, mismatched and duplicate processors', () => {
    const contract = { [QUEUE.schedulerTicks]: [JOB.runCron] };
    expect(
      findJobHandlerProblems(
        [
          { queue: 'reports', declaredQueue: 'reports', jobNames: ['weekly'] },
          { queue: QUEUE.schedulerTicks, declaredQueue: QUEUE.email, jobNames: [JOB.runCron] },
          {
            queue: QUEUE.schedulerTicks,
            declaredQueue: QUEUE.schedulerTicks,
            jobNames: [JOB.runCron],
          },
        ],
        contract,
      ),
    ).toEqual([
      'queue "reports" is not in the shared queue contract (QUEUE_JOBS)',
      'a processor declared for queue "email" consumes "scheduler-ticks"',
      'queue "scheduler-ticks" has more than one processor',
    ]);
  });
});
