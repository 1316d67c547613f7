import { randomUUID } from 'node:crypto';
import {
  createTestQueuePrefix,
  freePort,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { RedisErrorLog } from '../redis/redis-error-log';
import { producerRedisOptions } from '../redis/redis-options';
import { JOB } from './job-names';
import { JobProducer, queueOfJob } from './job-producer';
import { QUEUE, QUEUE_NAMES } from './queue-names';
import { QueueUnavailableError } from './queue-unavailable.error';

describe('JobProducer (real Redis)', () => {
  let prefix: TestQueuePrefix;
  let queues: Queue[];
  let producer: JobProducer;

  beforeAll(() => {
    prefix = createTestQueuePrefix();
    queues = QUEUE_NAMES.map(
      (name) =>
        new Queue(name, {
          connection: producerRedisOptions(testRedisUrl()),
          prefix: prefix.prefix,
        }),
    );
    producer = new JobProducer(queues, new RedisErrorLog());
    producer.onModuleInit();
  });

  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
    await prefix.cleanup();
  });

  it('takes the queue from the job name, by the shared contract', () => {
    expect(queueOfJob(JOB.syncPublication)).toBe(QUEUE.subscriberSync);
    expect(queueOfJob(JOB.loginCode)).toBe(QUEUE.email);
    expect(queueOfJob(JOB.rerunCronTick)).toBe(QUEUE.schedulerTicks);
    expect(queueOfJob('sync-requested')).toBe(QUEUE.domainEvents);
  });

  it('adds a job once however often it is added under its id', async () => {
    const syncRunId = randomUUID();
    const data = { espConnectionId: randomUUID(), syncRunId, trigger: 'manual' as const };
    await producer.add(JOB.syncPublication, data, syncRunId);
    await producer.add(JOB.syncPublication, data, syncRunId);
    const sync = producer.find(QUEUE.subscriberSync)!;
    expect(await sync.getWaitingCount()).toBe(1);
    expect((await sync.getJob(syncRunId))?.data).toEqual(data);
  });

  it('adds a page of jobs in one call, skipping ids that exist', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const jobs = ids.map((id) => ({
      data: { espConnectionId: randomUUID(), syncRunId: id, trigger: 'scheduled' as const },
      jobId: id,
    }));
    await producer.addBulk(JOB.syncPublication, jobs.slice(0, 1));
    await producer.addBulk(JOB.syncPublication, jobs);
    const sync = producer.find(QUEUE.subscriberSync)!;
    for (const id of ids) expect(await sync.getJob(id)).toBeDefined();
    expect(await sync.getWaitingCount()).toBe(4);
  });

  it('answers a Redis that cannot be reached with QueueUnavailableError, not a hang', async () => {
    const unreachable = new Queue(QUEUE.email, {
      connection: producerRedisOptions(`redis://127.0.0.1:${await freePort()}`),
      prefix: prefix.prefix,
    });
    const errors = new RedisErrorLog();
    const logged = jest.spyOn(errors, 'log').mockImplementation(() => undefined);
    const offline = new JobProducer([unreachable], errors);
    offline.onModuleInit();
    try {
      await expect(
        offline.call(QUEUE.email, 'adding a job', (queue) => queue.add('x', {}), 300),
      ).rejects.toThrow(QueueUnavailableError);
      await expect(
        offline.call(QUEUE.email, 'adding a job', (queue) => queue.add('x', {}), 300),
      ).rejects.toThrow(
        'Queue "email" is unavailable: connecting to Redis took longer than 300 ms',
      );
      await expect(offline.ping()).rejects.toThrow(QueueUnavailableError);
      // Connection errors reach the one log (which rate-limits them), not stderr.
      await waitFor(async () => logged.mock.calls.some(([source]) => source === 'queue email'), {
        description: 'the connection error to reach the log',
      });
    } finally {
      await offline.beforeApplicationShutdown();
      await unreachable.close();
    }
  });
});
