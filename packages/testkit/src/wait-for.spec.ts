import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    await expect(
      waitFor(() => (++calls >= 3 ? 'done' : undefined), { intervalMs: 1 }),
    ).resolves.toBe('done');
    expect(calls).toBe(3);
  });

  it('fails at its deadline, naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 30, intervalMs: 5, description: 'the api' },
      ),
    ).rejects.toThrow('Timed out waiting for the api (last error: connection refused)');
  });
});
