import { decodeSubscriberCursor, encodeSubscriberCursor } from './subscriber-cursor';

describe('subscriber cursor', () => {
  const a = '0b6f1f8e-4a7e-4c1e-9c1a-2f3e4d5c6b7a';
  const b = 'ffffffff-ffff-4fff-bfff-ffffffffffff';

  it('round-trips its keys through an opaque URL-safe string', () => {
    const cursor = encodeSubscriberCursor([a, b]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSubscriberCursor(cursor, 2)).toEqual([a, b]);
    expect(decodeSubscriberCursor(encodeSubscriberCursor([a]), 1)).toEqual([a]);
  });

  it('answers 400 for anything it did not make', () => {
    const bad = [
      'x',
      Buffer.from('not json').toString('base64url'),
      Buffer.from('{"id":1}').toString('base64url'),
      Buffer.from(JSON.stringify([2, a])).toString('base64url'),
      Buffer.from(JSON.stringify([1, "' OR 1=1 --"])).toString('base64url'),
      encodeSubscriberCursor([a, b]),
    ];
    for (const cursor of bad) {
      expect(() => decodeSubscriberCursor(cursor, 1)).toThrow('Bad Request');
    }
  });
});
