import { decodeCursor, encodeCursor } from './esp-cursor';
import { InvalidCursorError } from './esp-errors';

const readOffset = (s: Record<string, unknown>) =>
  typeof s.offset === 'number' ? { offset: s.offset } : null;

describe('ESP cursors', () => {
  it('round-trip their state as one opaque, URL-safe string naming the ESP and version', () => {
    const cursor = encodeCursor('mailchimp', { list: 'a/b', offset: 2000 });
    expect(cursor).toMatch(/^mailchimp\.v1\.[A-Za-z0-9_-]+$/);
    expect(decodeCursor('mailchimp', cursor, readOffset)).toEqual({ offset: 2000 });
  });

  it.each([
    ['another ESP', encodeCursor('kit', { offset: 1 })],
    ['another version', encodeCursor('mailchimp', { offset: 1 }).replace('.v1.', '.v9.')],
    ['garbage', 'not a cursor'],
    ['a bad payload', 'mailchimp.v1.!!!'],
    ['the wrong shape', encodeCursor('mailchimp', { after: 'x' })],
  ])('reject %s with an InvalidCursorError', (_what, cursor) => {
    expect(() => decodeCursor('mailchimp', cursor, readOffset)).toThrow(InvalidCursorError);
  });
});
