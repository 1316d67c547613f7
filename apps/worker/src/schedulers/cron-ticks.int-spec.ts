import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CRON, CronRun, dataSourceOptions, runMigrations } from '@subscribernest/shared';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { CronClaim, CronTickOutcome, CronTicksService } from './cron-ticks.service';
import { CronTicksModule } from './cron-ticks.module';

const MIDNIGHT = '0 0 * * *';

/** One worker replica's view: its own Nest context and connection pool on the shared database. */
async function replica(databaseUrl: string): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl), logging: false }),
      CronTicksModule,
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('CronTicksService (cron_runs claim, catch-up, outcome)', () => {
  let database: TestDatabase;
  let a: TestingModule;
  let b: TestingModule;
  let ticksA: CronTicksService;
  let ticksB: CronTicksService;
  let rows: (name: string, tick: Date) => Promise<CronRun[]>;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    [a, b] = await Promise.all([replica(database.url), replica(database.url)]);
    ticksA = a.get(CronTicksService);
    ticksB = b.get(CronTicksService);
    const dataSource = a.get(DataSource);
    rows = (name, tick) => dataSource.getRepository(CronRun).findBy({ name, tick });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('lets exactly one of two replicas claim the same tick, every time', async () => {
    for (let day = 1; day <= 20; day++) {
      const tick = new Date(Date.UTC(2030, 0, day));
      const claims = await Promise.all([
        ticksA.claim(CRON.midnightSync, tick),
        ticksB.claim(CRON.midnightSync, tick),
      ]);
      expect(claims.filter((claim) => claim !== null)).toHaveLength(1);
      expect(await rows(CRON.midnightSync, tick)).toHaveLength(1);
    }
  });

  it('runs a tick fired on two replicas once, and records what it did', async () => {
    const ran: CronClaim[] = [];
    const handler = async (claim: CronClaim): Promise<CronTickOutcome> => {
      ran.push(claim);
      return { queued: 7, skipped: 2 };
    };
    const firedAt = new Date('2031-05-06T00:00:00.012Z');
    const results = await Promise.all([
      ticksA.runScheduled(CRON.midnightSync, MIDNIGHT, handler, firedAt),
      ticksB.runScheduled(CRON.midnightSync, MIDNIGHT, handler, firedAt),
    ]);

    expect(results.map((result) => result.status).sort()).toEqual(['completed', 'not-claimed']);
    expect(ran).toHaveLength(1);
    const tick = new Date('2031-05-06T00:00:00.000Z');
    expect(ran[0]).toMatchObject({ name: CRON.midnightSync, tick, trigger: 'schedule' });
    const [row] = await rows(CRON.midnightSync, tick);
    expect(row).toMatchObject({
      trigger: 'schedule',
      status: 'completed',
      queuedCount: 7,
      skippedCount: 2,
      error: null,
    });
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(row.claimedBy).toMatch(/:\d+$/);
  });

  it('counts a @Cron firing a hair early as the tick it is firing for', () => {
    expect(ticksA.scheduledTick(MIDNIGHT, new Date('2031-05-06T23:59:59.600Z'))).toEqual(
      new Date('2031-05-07T00:00:00.000Z'),
    );
  });

  it('catches up a missed tick once on start-up, and not again', async () => {
    let runs = 0;
    const handler = async (): Promise<CronTickOutcome> => {
      runs++;
      return { queued: 3, skipped: 0 };
    };
    // The worker was down at 2032-02-01 01:00 and starts on the 3rd: the monthly tick was missed.
    const startedAt = new Date('2032-02-03T09:30:00Z');
    const tick = new Date('2032-02-01T01:00:00Z');
    const first = await ticksA.catchUp(CRON.monthlyBilling, '0 1 1 * *', handler, startedAt);
    expect(first).toMatchObject({ status: 'completed', claim: { tick, trigger: 'catch-up' } });

    // A second replica starting at the same time, and a restart later: nothing runs again.
    const again = await Promise.all([
      ticksB.catchUp(CRON.monthlyBilling, '0 1 1 * *', handler, startedAt),
      ticksA.catchUp(CRON.monthlyBilling, '0 1 1 * *', handler, new Date('2032-02-20T00:00:00Z')),
    ]);
    expect(again.map((result) => result.status)).toEqual(['not-claimed', 'not-claimed']);
    expect(runs).toBe(1);
    expect(await rows(CRON.monthlyBilling, tick)).toEqual([
      expect.objectContaining({ trigger: 'catch-up', status: 'completed', queuedCount: 3 }),
    ]);
  });

  it('does not catch up a tick that already ran on schedule', async () => {
    let runs = 0;
    const handler = async (): Promise<CronTickOutcome> => {
      runs++;
      return { queued: 1, skipped: 0 };
    };
    await ticksA.runScheduled(
      CRON.accountDeletion,
      '0 3 * * *',
      handler,
      new Date('2033-07-01T03:00:00Z'),
    );
    const restart = await ticksB.catchUp(
      CRON.accountDeletion,
      '0 3 * * *',
      handler,
      new Date('2033-07-01T15:00:00Z'),
    );
    expect(restart.status).toBe('not-claimed');
    expect(runs).toBe(1);
  });

  it('records a failing handler as failed, without throwing out of the scheduler', async () => {
    const tick = new Date('2034-01-01T00:00:00Z');
    const result = await ticksA.runTick(CRON.midnightSync, tick, 'manual', async () => {
      throw new Error('fan-out failed for jane.doe@example.com');
    });
    expect(result).toMatchObject({
      status: 'failed',
      error: 'Error: fan-out failed for j***@e***.com',
    });
    const [row] = await rows(CRON.midnightSync, tick);
    expect(row).toMatchObject({
      trigger: 'manual',
      status: 'failed',
      error: 'Error: fan-out failed for j***@e***.com',
    });
    expect(row.finishedAt).toBeInstanceOf(Date);
    // The failed tick stays claimed: it is not run again by a catch-up.
    const retry = await ticksB.runTick(CRON.midnightSync, tick, 'catch-up', async () => ({
      queued: 1,
      skipped: 0,
    }));
    expect(retry.status).toBe('not-claimed');
  });

  it('lets a running tick record its outcome before shutdown closes the database', async () => {
    const c = await replica(database.url);
    const tick = new Date('2035-01-01T00:00:00Z');
    const run = c.get(CronTicksService).runTick(CRON.midnightSync, tick, 'manual', async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { queued: 5, skipped: 0 };
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await c.close();
    await expect(run).resolves.toMatchObject({ status: 'completed' });
    expect(await rows(CRON.midnightSync, tick)).toEqual([
      expect.objectContaining({ status: 'completed', queuedCount: 5 }),
    ]);
  });
});
