import { waitFor } from '@subscribernest/testkit';
import { SHUTDOWN_HANDBACK_REASON } from '../src/ops/job-handback';
import { SyncProcessHarness, vendorCursorOf } from './support/sync-process';

const LISTS = { drained: 'pub_drained', handedBack: 'pub_handed_back' };

/**
 * SIGTERM while the built worker (a child process) is in the middle of a sync: the process always
 * exits 0 and no subscriber is lost. Within the drain time (JOB_DRAIN_TIMEOUT_MS) the sync simply
 * finishes; past it, the sync stops after its current page and hands its job back to the queue,
 * and the next worker resumes it from the checkpoint.
 */
describe('worker process: SIGTERM during a sync', () => {
  let harness: SyncProcessHarness;

  beforeAll(async () => {
    harness = await SyncProcessHarness.create([
      { id: LISTS.drained, name: 'Drained', size: 3_000, faults: { latencyMs: 40 } },
      { id: LISTS.handedBack, name: 'Handed back', size: 10_000, faults: { latencyMs: 40 } },
    ]);
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('finishes the sync within the drain time, then exits 0', async () => {
    const worker = await harness.startWorker({ SHUTDOWN_TIMEOUT_MS: '40000' });
    const { connectionId, runId } = await harness.requestSync(LISTS.drained);
    await harness.waitForPages(connectionId, 3);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    // Shutdown waited for the job: the run had finished before the process exited.
    expect(await harness.runOf(runId)).toMatchObject({
      status: 'success',
      subscriber_count: 3_000,
      created_count: 3_000,
    });
    expect(await harness.storedIds(connectionId)).toEqual({ total: 3_000, distinct: 3_000 });
    await harness.expectExact(connectionId, LISTS.drained);
    expect(harness.pageRequests(LISTS.drained)).toHaveLength(30);
    expect(await harness.jobRun(runId)).toEqual({ status: 'completed', last_error: null });
    const messages = worker.logLines<{ msg?: string }>().map((line) => line.msg);
    expect(messages).toContain('workers stopped');
    expect(messages).not.toContain(
      'sync handed back to the queue on shutdown: resumes from checkpoint',
    );
  });

  it('drain time too short: hands the job back, exits 0, and a new worker resumes it', async () => {
    const worker = await harness.startWorker({
      SHUTDOWN_TIMEOUT_MS: '20000',
      JOB_DRAIN_TIMEOUT_MS: '200',
    });
    const { connectionId, runId } = await harness.requestSync(LISTS.handedBack);
    await harness.waitForPages(connectionId, 5);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const messages = worker.logLines<{ msg?: string }>().map((line) => line.msg);
    expect(messages).toContain(
      'drain time is up: asking active jobs to hand their job back to the queue',
    );
    expect(messages).toContain(
      'sync handed back to the queue on shutdown: resumes from checkpoint',
    );

    // Handed back, not failed: waiting again at once (no lock left to expire), no attempt used.
    const job = await harness.syncs.getJob(runId);
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
    // The run waits again with its checkpoint (queued), its connection still `syncing`.
    expect((await harness.runOf(runId)).status).toBe('queued');
    expect(await harness.jobRun(runId)).toEqual({
      status: 'queued',
      last_error: SHUTDOWN_HANDBACK_REASON,
    });
    const saved = await harness.checkpointOf(connectionId);
    expect(saved?.syncRunId).toBe(runId);
    const pagesBefore = saved!.pagesDone;
    expect(pagesBefore).toBeLessThan(100);
    const requestsBefore = await harness.settledRequestCount();

    // Default lock timings: nothing waits for a lock to expire.
    const next = await harness.startWorker();
    const run = await harness.finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: 10_000,
      created_count: 10_000,
      removed_count: 0,
    });
    expect(await harness.storedIds(connectionId)).toEqual({ total: 10_000, distinct: 10_000 });
    await harness.expectExact(connectionId, LISTS.handedBack);
    const afterRestart = harness.pageRequests(LISTS.handedBack, requestsBefore);
    expect(afterRestart[0]?.query.cursor).toBe(vendorCursorOf(saved!.cursor!));
    expect(afterRestart).toHaveLength(100 - pagesBefore);

    await waitFor(async () => (await harness.jobRun(runId))?.status === 'completed', {
      description: 'the job audit row to be completed',
    });
    const finished = await harness.syncs.getJob(runId);
    expect(finished?.attemptsMade).toBe(1);
    expect(finished?.failedReason).toBeFalsy();
    expect(await next.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
