import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FakeEspServer, FakeSmtpServer, RedisServer, waitFor } from '@subscribernest/testkit';
import { ApiAnswer, ApiWorkerStack } from './support/api-worker-stack';

const API_ENTRY = resolve(__dirname, '../../api/dist/main.js');
const KEY = 'bh-faults-api-key';

const LISTS = {
  concurrent: { id: 'pub_concurrent', size: 4_000, latencyMs: 60 },
  terminated: { id: 'pub_terminated', size: 5_000, latencyMs: 50 },
  outage: { id: 'pub_outage', size: 6_000, latencyMs: 80 },
  deadLetter: { id: 'pub_dead_letter', size: 1_500, latencyMs: 0 },
};

// Retries in hundreds of milliseconds, not the production 30 s exponential backoff, and no
// in-process ESP retries, so a persistently failing ESP exhausts a sync's attempts in seconds.
const FAST_RETRIES = {
  SYNC_JOB_ATTEMPTS: '5',
  SYNC_JOB_BACKOFF_MS: '200',
  ESP_MAX_RETRIES: '0',
};

interface JobRunView {
  id: string;
  jobId: string;
  status: string;
  attempts: number;
  maxAttempts: number;
}

/**
 * Faults from outside against the built api and worker as real processes, through the api a
 * user and an admin use: a storm of sync requests, Postgres killing every backend, Redis gone for
 * longer than the job lock, and a dead sync retried by an admin. Each ends with the exact list
 * stored and a run that says how it ended — never `running` with nothing running.
 */
describe('sync under faults, driven through the api (built api + worker processes, fake ESP)', () => {
  let esp: FakeEspServer;
  let smtp: FakeSmtpServer;
  let stack: ApiWorkerStack;
  let owner: string;

  beforeAll(async () => {
    if (!existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: build the api first`);
    smtp = await FakeSmtpServer.start();
    esp = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: Object.values(LISTS).map(({ id, size, latencyMs }) => ({
            id,
            name: id,
            size,
            faults: latencyMs > 0 ? { latencyMs } : undefined,
          })),
        },
      ],
    });
    stack = await ApiWorkerStack.start({ esp, smtp, env: FAST_RETRIES });
    owner = await stack.signIn('owner@example.com');
  });

  afterAll(async () => {
    await stack?.close();
    await esp?.stop();
    await smtp?.stop();
  });

  /** Ended with the whole list stored once, the connection synced, nothing left unfinished. */
  const expectExactSuccess = async (
    target: ApiWorkerStack,
    connectionId: string,
    runId: string,
    size: number,
  ): Promise<void> => {
    const run = await target.finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: size,
      removed_count: 0,
      error_message: null,
    });
    expect(await target.storedIds(connectionId)).toEqual({ total: size, distinct: size });
    expect((await target.connectionOf(connectionId)).sync_status).toBe('synced');
    expect(await target.unfinished()).toEqual({ runs: 0, syncing: 0 });
  };

  it('30 concurrent POST /esp-connections/:id/sync during a running sync', async () => {
    const list = LISTS.concurrent;
    const connectionId = await stack.connect(owner, list.id, KEY);
    const runId = await stack.requestSync(owner, connectionId);
    await stack.waitForRunStatus(runId, ['running']);
    await stack.waitForPages(connectionId, 2);

    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        stack.call<{ jobId?: string; status?: string; message?: string }>(
          'POST',
          `/esp-connections/${connectionId}/sync`,
          owner,
        ),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((status) => status !== 202 && status !== 409)).toEqual([]);
    // Every accepted request answers with the run already under way; none starts another.
    for (const answer of answers.filter(({ status }) => status === 202)) {
      expect(answer.body).toMatchObject({ jobId: runId, status: 'running' });
      expect(answer.body.message).toMatch(/already running/);
    }
    expect(
      (await stack.run()).filter((run) => run.esp_connection_id === connectionId),
    ).toHaveLength(1);

    await expectExactSuccess(stack, connectionId, runId, list.size);
    const job = await stack.syncQueue().getJob(runId);
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.getState()).toBe('completed');
    await waitFor(async () => (await stack.jobRun(runId))?.status === 'completed', {
      description: 'the job audit row to be completed',
    });
    expect(await stack.jobRun(runId)).toMatchObject({ attempts: 1, last_error: null });
  });
});
