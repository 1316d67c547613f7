import { JOB, QUEUE, registerQueues } from '@subscribernest/shared';
import { JobHandlers } from '../src/ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../src/ops/queue-processor';
import { startTestWorker } from './support/test-worker';

/** A processor whose handler map misses a job name (what the type normally forbids). */
@QueueWorker(QUEUE.email)
class IncompleteEmailProcessor extends QueueProcessor<typeof QUEUE.email> {
  readonly queue = QUEUE.email;
  readonly concurrencySetting = 'DOMAIN_EVENTS_CONCURRENCY';
  protected readonly handlers = {
    [JOB.loginCode]: async () => undefined,
  } as unknown as JobHandlers<typeof QUEUE.email>;
}

describe('worker start-up', () => {
  it('refuses to start when a processed queue has a job name with no handler', async () => {
    await expect(
      startTestWorker({
        imports: [registerQueues(QUEUE.email)],
        providers: [IncompleteEmailProcessor],
      }),
    ).rejects.toThrow('queue "email" has no handler for job "sign-in-notification"');
  });

  it('starts with the shipped processors, and only processes queues it has a processor for', async () => {
    const worker = await startTestWorker();
    try {
      const { QueueWorkersService } = await import('../src/ops/queue-workers.service');
      expect(worker.app.get(QueueWorkersService).queues).toEqual([
        QUEUE.domainEvents,
        QUEUE.subscriberSync,
        QUEUE.email,
        QUEUE.schedulerTicks,
        QUEUE.accountDeletion,
        QUEUE.billing,
      ]);
    } finally {
      await worker.close();
    }
  });
});
