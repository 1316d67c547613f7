import { Job } from 'bullmq';
import { withOwnLock } from './job-lock-keeper';

describe('withOwnLock', () => {
  afterEach(() => jest.useRealTimers());

  it("renews the lock by this execution's token every half lock, and stops when the job ends", async () => {
    jest.useFakeTimers();
    const extendLock = jest.fn().mockResolvedValue(1);
    const job = { extendLock } as unknown as Job;
    let finish!: () => void;
    const running = withOwnLock(
      job,
      'token-2',
      2_000,
      () => new Promise<void>((r) => (finish = r)),
    );

    await jest.advanceTimersByTimeAsync(3_100);
    expect(extendLock).toHaveBeenCalledTimes(3);
    expect(extendLock).toHaveBeenCalledWith('token-2', 2_000);

    finish();
    await running;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(extendLock).toHaveBeenCalledTimes(3);
  });

  it('keeps running when a renewal fails (Redis away), and passes the outcome through', async () => {
    jest.useFakeTimers();
    const job = { extendLock: jest.fn().mockRejectedValue(new Error('Connection is closed')) };
    const running = withOwnLock(job as unknown as Job, 't', 1_000, async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      return 'done';
    });
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(running).resolves.toBe('done');
    expect(job.extendLock).toHaveBeenCalled();
  });

  it('does nothing without a token', async () => {
    const extendLock = jest.fn();
    await expect(
      withOwnLock({ extendLock } as unknown as Job, undefined, 1_000, async () => 7),
    ).resolves.toBe(7);
    expect(extendLock).not.toHaveBeenCalled();
  });
});
