import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions, JobRun, runMigrations } from '@subscribernest/shared';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource, Repository } from 'typeorm';
import { JobRunRecord, JobRunRepository } from './job-run.repository';

describe('JobRunRepository', () => {
  let database: TestDatabase;
  let moduleRef: TestingModule;
  let repository: JobRunRepository;
  let rows: Repository<JobRun>;

  const observation = (overrides: Partial<JobRunRecord>): JobRunRecord => ({
    queue: 'email',
    name: 'login-code',
    jobId: 'job-1',
    userId: null,
    correlationId: null,
    status: 'active',
    attempts: 1,
    maxAttempts: 3,
    lastError: null,
    startedAt: new Date('2030-01-01T00:00:00Z'),
    finishedAt: null,
    ...overrides,
  });

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptions(database.url), logging: false }),
        TypeOrmModule.forFeature([JobRun]),
      ],
      providers: [JobRunRepository],
    }).compile();
    await moduleRef.init();
    repository = moduleRef.get(JobRunRepository);
    rows = moduleRef.get(DataSource).getRepository(JobRun);
  });

  afterAll(async () => {
    await moduleRef?.close();
    await database?.drop();
  });

  it('keeps one row per (queue, job id) that only moves forward, whatever the write order', async () => {
    const jobId = 'out-of-order';
    const failed = observation({
      jobId,
      status: 'failed',
      attempts: 1,
      lastError: 'Error: timeout',
    });
    const secondActive = observation({
      jobId,
      status: 'active',
      attempts: 2,
      startedAt: new Date('2030-01-01T00:00:05Z'),
    });
    const completed = observation({
      jobId,
      status: 'completed',
      attempts: 2,
      finishedAt: new Date('2030-01-01T00:00:06Z'),
    });
    // Arrive late or twice: the completed second attempt must win.
    for (const run of [completed, observation({ jobId }), secondActive, failed, completed]) {
      await repository.record(run);
    }
    const all = await rows.findBy({ queue: 'email', jobId });
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      status: 'completed',
      attempts: 2,
      maxAttempts: 3,
      lastError: null,
      finishedAt: new Date('2030-01-01T00:00:06Z'),
    });
  });

  it('keeps the first start time, the last error, and an owner set earlier', async () => {
    const jobId = 'kept-fields';
    const userId = '00000000-0000-4000-8000-000000000001';
    await repository.record(observation({ jobId, userId }));
    await repository.record(
      observation({ jobId, status: 'failed', attempts: 1, lastError: 'Error: first' }),
    );
    await repository.record(
      observation({ jobId, attempts: 2, startedAt: new Date('2030-01-01T00:01:00Z') }),
    );
    expect(await rows.findOneByOrFail({ queue: 'email', jobId })).toMatchObject({
      status: 'active',
      attempts: 2,
      userId,
      lastError: 'Error: first',
      startedAt: new Date('2030-01-01T00:00:00Z'),
    });
  });

  it('a handed-back attempt goes back to queued, then the next start and the completion move it on', async () => {
    const jobId = 'handed-back';
    const reason = 'stalled: handed back to the queue';
    expect(await repository.markHandedBack('email', jobId, reason)).toBe(false);
    await repository.record(observation({ jobId }));
    expect(await repository.markHandedBack('email', jobId, reason)).toBe(true);
    expect(await rows.findOneByOrFail({ queue: 'email', jobId })).toMatchObject({
      status: 'queued',
      attempts: 1,
      lastError: reason,
      finishedAt: null,
    });
    // A stall does not use up an attempt: BullMQ starts it again as the same attempt number.
    await repository.record(observation({ jobId, startedAt: new Date('2030-01-01T00:02:00Z') }));
    expect(await rows.findOneByOrFail({ queue: 'email', jobId })).toMatchObject({
      status: 'active',
      attempts: 1,
      startedAt: new Date('2030-01-01T00:00:00Z'),
    });
    await repository.record(
      observation({ jobId, status: 'completed', finishedAt: new Date('2030-01-01T00:03:00Z') }),
    );
    // A completed job has no error; a late stall report never undoes it.
    expect(await repository.markHandedBack('email', jobId, reason)).toBe(false);
    expect(await rows.findOneByOrFail({ queue: 'email', jobId })).toMatchObject({
      status: 'completed',
      attempts: 1,
      lastError: null,
      finishedAt: new Date('2030-01-01T00:03:00Z'),
    });
  });

  it('a delayed attempt is delayed with when it runs, until its next start moves it on', async () => {
    const jobId = 'rate-limited';
    const until = new Date('2030-01-01T00:01:00Z');
    const reason = 'rate limited by the ESP (429): waiting until 2030-01-01T00:01:00.000Z';
    expect(await repository.markDelayed('subscriber-sync', jobId, until, reason)).toBe(false);
    await repository.record(observation({ queue: 'subscriber-sync', jobId }));
    expect(await repository.markDelayed('subscriber-sync', jobId, until, reason)).toBe(true);
    expect(await rows.findOneByOrFail({ queue: 'subscriber-sync', jobId })).toMatchObject({
      status: 'delayed',
      attempts: 1,
      delayedUntil: until,
      lastError: reason,
    });

    // The same attempt starts again (BullMQ does not count a delay as an attempt), then completes.
    await repository.record(observation({ queue: 'subscriber-sync', jobId }));
    expect(await rows.findOneByOrFail({ queue: 'subscriber-sync', jobId })).toMatchObject({
      status: 'active',
      delayedUntil: null,
    });
    await repository.record(
      observation({ queue: 'subscriber-sync', jobId, status: 'completed', finishedAt: new Date() }),
    );
    expect(await rows.findOneByOrFail({ queue: 'subscriber-sync', jobId })).toMatchObject({
      status: 'completed',
      delayedUntil: null,
      lastError: null,
    });
    expect(await repository.markDelayed('subscriber-sync', jobId, until, reason)).toBe(false);
  });

  it('tells queues apart', async () => {
    await repository.record(observation({ queue: 'billing', name: 'close-period', jobId: 'same' }));
    await repository.record(observation({ queue: 'email', jobId: 'same' }));
    expect(await rows.countBy({ jobId: 'same' })).toBe(2);
  });
});
