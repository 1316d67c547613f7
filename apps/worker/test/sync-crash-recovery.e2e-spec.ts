import { waitFor } from '@subscribernest/testkit';
import { STALLED_REASON } from '../src/ops/job-audit.listener';
import { SyncProcessHarness, vendorCursorOf } from './support/sync-process';

const LIST = 'pub_crash';
const SIZE = 10_000;
const PAGES = SIZE / 100;
// SYNC_WRITE_BATCH_ROWS' default (2,000) in 100-subscriber beehiiv pages.
const PAGES_PER_BATCH = 2_000 / 100;

/**
 * The built worker as a child process, SIGKILLed in the middle of a sync (no shutdown hook runs,
 * the job's lock is left to expire), then a new worker process: BullMQ's stalled-job check hands
 * the job to it, and the sync goes on from the last committed checkpoint.
 */
describe('worker process: a sync survives SIGKILL and resumes from its checkpoint', () => {
  let harness: SyncProcessHarness;

  beforeAll(async () => {
    // ~40 ms a page: a 10,000-subscriber pass takes several seconds, enough to kill it midway.
    harness = await SyncProcessHarness.create([
      { id: LIST, name: 'Crash', size: SIZE, faults: { latencyMs: 40 } },
    ]);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('kill -9 mid-sync, restart: exactly 10,000 subscribers, no duplicate, resumed at the saved cursor', async () => {
    // Short lock timings so the killed worker's job is recovered in seconds, not 30 s.
    const lockEnv = { QUEUE_LOCK_DURATION_MS: '2000', QUEUE_STALLED_INTERVAL_MS: '1000' };
    const first = await harness.startWorker(lockEnv);
    const { connectionId, runId } = await harness.requestSync(LIST);

    await harness.waitForPages(connectionId, 10);
    expect(await harness.kill(first)).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await harness.runOf(runId)).status).toBe('running');
    expect(await harness.jobRun(runId)).toMatchObject({ status: 'active' });

    // What the killed worker committed last: the new one must go on from exactly here.
    const saved = await harness.checkpointOf(connectionId);
    expect(saved).toMatchObject({ syncRunId: runId, cursor: expect.any(String) as string });
    const pagesBeforeKill = saved!.pagesDone;
    expect(pagesBeforeKill).toBeGreaterThanOrEqual(10);
    expect(pagesBeforeKill).toBeLessThan(PAGES);
    const requestsBefore = await harness.settledRequestCount();

    const second = await harness.startWorker(lockEnv);
    const run = await harness.finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: SIZE,
      created_count: SIZE,
      updated_count: 0,
      removed_count: 0,
      error_message: null,
    });
    expect(await harness.storedIds(connectionId)).toEqual({ total: SIZE, distinct: SIZE });
    await harness.expectExact(connectionId, LIST);
    expect(await harness.checkpointOf(connectionId)).toBeNull();

    // Resumed, not restarted: the first page asked for after the restart is the saved cursor's,
    // and only the remaining pages were asked for.
    const afterRestart = harness.pageRequests(LIST, requestsBefore);
    expect(afterRestart[0]?.query.cursor).toBe(vendorCursorOf(saved!.cursor!));
    expect(afterRestart).toHaveLength(PAGES - pagesBeforeKill);
    // Overall: one pass plus at most the pages the killed worker had read past its last stored
    // batch: the batch it was writing, the one it had prepared, the pages it was fetching for
    // the one after, and the ESP client's page fetched ahead.
    const all = harness.pageRequests(LIST);
    expect(all.length).toBeLessThanOrEqual(PAGES + 3 * PAGES_PER_BATCH + 2);
    expect(all.filter((request) => request.query.cursor === undefined)).toHaveLength(1);

    // The audit saw the stall (the restarted worker's stalled-job check), then the completion.
    await waitFor(async () => (await harness.jobRun(runId))?.status === 'completed', {
      description: 'the job audit row to be completed',
    });
    // A completed job carries no error, whatever its earlier attempts went through.
    expect(await harness.jobRun(runId)).toEqual({ status: 'completed', last_error: null });
    const logs = second.logLines<{ msg?: string; jobId?: string; reason?: string }>();
    expect(
      logs.some(
        (line) =>
          line.msg === 'job handed back to the queue' &&
          line.jobId === runId &&
          line.reason === STALLED_REASON,
      ),
    ).toBe(true);
    expect(logs.some((line) => line.msg === 'sync resumed from checkpoint')).toBe(true);

    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
