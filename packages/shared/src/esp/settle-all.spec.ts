import { settleAll } from './settle-all';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('settleAll', () => {
  it('answers every value in call order', async () => {
    await expect(settleAll([Promise.resolve(1), Promise.resolve('two')])).resolves.toEqual([
      1,
      'two',
    ]);
  });

  it('throws a failure only once the calls beside it have ended', async () => {
    const slow = deferred<number>();
    let settled = false;
    const all = settleAll([Promise.reject(new Error('429')), slow.promise]).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    // Promise.all would have rejected by now, with the slow call still running.
    expect(settled).toBe(false);
    slow.resolve(3);
    await expect(all).rejects.toThrow('429');
  });

  it('throws the first failure in call order, whichever ended first', async () => {
    const first = deferred<number>();
    const all = settleAll([first.promise, Promise.reject(new Error('second'))]);
    first.reject(new Error('first'));
    await expect(all).rejects.toThrow('first');
  });
});
