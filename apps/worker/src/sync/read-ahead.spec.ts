import { readAhead } from './read-ahead';

/** A source that records when each item is produced and whether it was closed. */
function source(count: number, failAt?: number) {
  const events: string[] = [];
  async function* items(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        if (i === failAt) throw new Error(`item ${i} failed`);
        events.push(`produced ${i}`);
        yield i;
      }
    } finally {
      events.push('closed');
    }
  }
  return { events, items: items() };
}

async function tick(times = 5): Promise<void> {
  for (let i = 0; i < times; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('readAhead', () => {
  it('produces the next item while the consumer handles the current one, never more', async () => {
    const { events, items } = source(4);
    for await (const item of readAhead(items)) {
      events.push(`handling ${item}`);
      await tick();
      events.push(`handled ${item}`);
    }
    expect(events).toEqual([
      'produced 0',
      'handling 0',
      'produced 1',
      'handled 0',
      'handling 1',
      'produced 2',
      'handled 1',
      'handling 2',
      'produced 3',
      'handled 2',
      // The pull past the last item ends the source while the last item is handled.
      'closed',
      'handling 3',
      'handled 3',
    ]);
  });

  it('surfaces a failure of the source only after the items before it were handled', async () => {
    const { events, items } = source(5, 2);
    const handled: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(items)) {
          await tick();
          handled.push(item);
        }
      })(),
    ).rejects.toThrow('item 2 failed');
    expect(handled).toEqual([0, 1]);
    expect(events).toContain('closed');
  });

  it('closes the source when the consumer stops early, after the pull in flight settles', async () => {
    const { events, items } = source(100);
    for await (const item of readAhead(items)) {
      if (item === 1) break;
    }
    expect(events).toEqual(['produced 0', 'produced 1', 'produced 2', 'closed']);
  });

  it('closes the source when the consumer throws, and passes the consumer error on', async () => {
    const { events, items } = source(100);
    await expect(
      (async () => {
        for await (const item of readAhead(items)) {
          if (item === 0) throw new Error('write failed');
        }
      })(),
    ).rejects.toThrow('write failed');
    expect(events).toEqual(['produced 0', 'produced 1', 'closed']);
  });
});
