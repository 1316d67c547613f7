import { SubscriberPage, streamPages } from './esp-client';
import { TransientError } from './esp-errors';

const page = (n: number, last = 3): SubscriberPage => ({
  subscribers: [],
  skipped: 0,
  nextCursor: n < last ? `c${n + 1}` : null,
  serverDate: null,
});
const pageNumber = (cursor: string | null) => (cursor === null ? 1 : Number(cursor.slice(1)));

describe('streamPages', () => {
  it('yields every page once, in order, until a page ends the pass', async () => {
    const asked: (string | null)[] = [];
    const seen: (string | null)[] = [];
    for await (const p of streamPages(async (cursor) => {
      asked.push(cursor);
      return page(pageNumber(cursor));
    }, null)) {
      seen.push(p.nextCursor);
    }
    expect(asked).toEqual([null, 'c2', 'c3']);
    expect(seen).toEqual(['c2', 'c3', null]);
  });

  it('starts from a saved cursor', async () => {
    const asked: (string | null)[] = [];
    for await (const _ of streamPages(async (cursor) => {
      asked.push(cursor);
      return page(pageNumber(cursor));
    }, 'c3')) {
      // drain
    }
    expect(asked).toEqual(['c3']);
  });

  it('asks for the next page while the caller is still handling the current one', async () => {
    const asked: (string | null)[] = [];
    const stream = streamPages(async (cursor) => {
      asked.push(cursor);
      return page(pageNumber(cursor));
    }, null);
    await stream.next();
    expect(asked).toEqual([null, 'c2']);
    await stream.return();
  });

  it('reports a failed page only after the page before it was handed over', async () => {
    const handled: (string | null)[] = [];
    const stream = streamPages(async (cursor) => {
      if (cursor === 'c2') throw new TransientError('kit', 'GET /subscribers: HTTP 503');
      return page(pageNumber(cursor));
    }, null);
    await expect(
      (async () => {
        for await (const p of stream) handled.push(p.nextCursor);
      })(),
    ).rejects.toBeInstanceOf(TransientError);
    expect(handled).toEqual(['c2']); // the caller saved c2 and can resume from it
  });

  it('leaves no unhandled rejection when the caller stops early', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const stream = streamPages(async (cursor) => {
        if (cursor !== null) throw new TransientError('kit', 'GET /subscribers: HTTP 503');
        return page(1);
      }, null);
      for await (const _ of stream) break;
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
