import { ConfigModule } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CRON, CronRun, dataSourceOptions, runMigrations } from '@subscribernest/shared';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { LoggerModule } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { CronClaim, CronTickOutcome, CronTicksService } from './cron-ticks.service';
import { CronTicksModule } from './cron-ticks.module';

const MIDNIGHT = '0 0 * * *';

interface CronSettings {
  CRON_LEASE_MS: number;
  CRON_MAX_ATTEMPTS: number;
  CRON_RETRY_DELAY_MS: number;
}

/** A long lease and retry delay: nothing here is taken over unless a test asks for it. */
const PATIENT: CronSettings = {
  CRON_LEASE_MS: 60_000,
  CRON_MAX_ATTEMPTS: 3,
  CRON_RETRY_DELAY_MS: 60_000,
};

/** One worker replica's view: its own Nest context and connection pool on the shared database. */
async function replica(databaseUrl: string, settings = PATIENT): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => settings] }),
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
    // The failed tick stays claimed until its retry delay has passed: a catch-up does nothing.
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
  describe('leases: a tick whose worker died, or that failed, is run again', () => {
    const SHORT: CronSettings = {
      CRON_LEASE_MS: 500,
      CRON_MAX_ATTEMPTS: 3,
      CRON_RETRY_DELAY_MS: 0,
    };
    let c: TestingModule;
    let d: TestingModule;
    let ticksC: CronTicksService;
    let ticksD: CronTicksService;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const outcome = { queued: 4, skipped: 1 };

    beforeAll(async () => {
      [c, d] = await Promise.all([replica(database.url, SHORT), replica(database.url, SHORT)]);
      ticksC = c.get(CronTicksService);
      ticksD = d.get(CronTicksService);
    });

    afterAll(async () => {
      await c?.close();
      await d?.close();
    });

    beforeEach(async () => {
      // Each test owns the recoverable rows it makes: earlier tests' failed ticks are settled.
      await a
        .get(DataSource)
        .query(`UPDATE cron_runs SET status = 'completed' WHERE status <> 'completed'`);
    });

    it('re-runs a tick left running by a dead worker once its lease lapses, on one replica', async () => {
      const tick = new Date('2040-01-01T00:00:00Z');
      // A worker claims the tick and dies: nobody renews the lease, nobody records an outcome.
      const dead = await ticksC.claim(CRON.midnightSync, tick, 'schedule');
      expect(dead).not.toBeNull();
      expect((await ticksD.recover()).found).toBe(0);
      await sleep(700);

      const ran: CronClaim[] = [];
      const handler = async (claim: CronClaim) => {
        ran.push(claim);
        return outcome;
      };
      ticksC.register(CRON.midnightSync, handler);
      ticksD.register(CRON.midnightSync, handler);
      const [first, second] = await Promise.all([ticksC.recover(), ticksD.recover()]);
      const statuses = [...first.results, ...second.results].map((result) => result.status);
      expect(statuses.filter((status) => status === 'completed')).toHaveLength(1);
      expect(ran).toHaveLength(1);
      expect(ran[0]).toMatchObject({ tick, trigger: 'schedule', attempt: 2 });

      // The dead attempt cannot overwrite the outcome of the one that took over.
      expect(await ticksC.fail(dead!, new Error('late'))).toBe(false);
      expect(await rows(CRON.midnightSync, tick)).toEqual([
        expect.objectContaining({ status: 'completed', attempts: 2, queuedCount: 4, error: null }),
      ]);
    });

    it('keeps the lease of a long tick alive, so no replica takes it over', async () => {
      const tick = new Date('2040-02-01T00:00:00Z');
      const run = ticksC.runTick(CRON.monthlyBilling, tick, 'schedule', async () => {
        await sleep(2_000); // four leases long
        return outcome;
      });
      for (let check = 0; check < 6; check++) {
        await sleep(300);
        expect((await ticksD.recover()).found).toBe(0);
      }
      await expect(run).resolves.toMatchObject({ status: 'completed' });
      expect(await rows(CRON.monthlyBilling, tick)).toEqual([
        expect.objectContaining({ status: 'completed', attempts: 1 }),
      ]);
    });

    it('stops an attempt whose lease was taken over, and lets the new owner record the outcome', async () => {
      const tick = new Date('2040-03-01T00:00:00Z');
      let resume!: () => void;
      const paused = new Promise<void>((resolve) => (resume = resolve));
      // The first attempt stalls past its lease (a blocked event loop, Postgres unreachable); it
      // runs on a replica with a long lease, so its own heartbeat does not renew it meanwhile.
      const stalled = ticksA.runTick(CRON.accountDeletion, tick, 'schedule', async (claim) => {
        await paused;
        expect(claim.lost).toBe(false); // it has not yet heard
        return { queued: 99, skipped: 0 };
      });
      await sleep(50);
      await d
        .get(DataSource)
        .query(
          `UPDATE cron_runs SET lease_expires_at = now() - interval '1 second' WHERE tick = $1`,
          [tick],
        );
      const takeover = await ticksD.runTick(
        CRON.accountDeletion,
        tick,
        'catch-up',
        async () => outcome,
      );
      expect(takeover).toMatchObject({ status: 'completed', claim: { attempt: 2 } });
      resume();
      await expect(stalled).resolves.toMatchObject({ status: 'lost' });
      expect(await rows(CRON.accountDeletion, tick)).toEqual([
        expect.objectContaining({ status: 'completed', attempts: 2, queuedCount: 4 }),
      ]);
    });

    it('re-runs a failed tick up to CRON_MAX_ATTEMPTS, then leaves it for an admin', async () => {
      const tick = new Date('2040-04-01T00:00:00Z');
      let calls = 0;
      const failing = async (): Promise<CronTickOutcome> => {
        calls++;
        throw new Error(`attempt ${calls} failed`);
      };
      const first = await ticksC.runTick(CRON.outboxSweep, tick, 'schedule', failing);
      expect(first.status).toBe('failed');
      ticksC.register(CRON.outboxSweep, failing);
      expect((await ticksC.recover()).results.map((result) => result.status)).toEqual(['failed']);
      expect((await ticksC.recover()).results.map((result) => result.status)).toEqual(['failed']);
      // Three attempts made: no more automatic ones.
      expect(await ticksC.recover()).toEqual({ found: 0, results: [] });
      expect(calls).toBe(3);
      expect(await rows(CRON.outboxSweep, tick)).toEqual([
        expect.objectContaining({
          status: 'failed',
          attempts: 3,
          error: 'Error: attempt 3 failed',
        }),
      ]);

      // An admin's re-run is forced past the limit, and its success clears the error.
      const forced = await ticksC.runTick(CRON.outboxSweep, tick, 'manual', async () => outcome, {
        force: true,
      });
      expect(forced).toMatchObject({
        status: 'completed',
        claim: { attempt: 4, trigger: 'schedule' },
      });
      expect(await rows(CRON.outboxSweep, tick)).toEqual([
        expect.objectContaining({ status: 'completed', attempts: 4, error: null }),
      ]);
      // A completed tick is never claimed again, not even by force.
      const again = await ticksC.runTick(CRON.outboxSweep, tick, 'manual', async () => outcome, {
        force: true,
      });
      expect(again.status).toBe('not-claimed');
    });
  });
});
