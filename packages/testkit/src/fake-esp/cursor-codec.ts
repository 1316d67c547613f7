/**
 * Opaque pagination cursors. A cursor names a position in the list's index space (indices are
 * never reused), so a cursor taken before a mutation still resumes exactly where it left off.
 */

/** beehiiv: base64url of {"p": publication id, "i": the next index to read}. */
export function encodeBeehiivCursor(listId: string, nextIndex: number): string {
  return Buffer.from(JSON.stringify({ p: listId, i: nextIndex })).toString('base64url');
}

export function decodeBeehiivCursor(listId: string, cursor: string): number | undefined {
  const parsed = parseJson(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { p, i } = parsed as { p?: unknown; i?: unknown };
  return p === listId && Number.isSafeInteger(i) ? (i as number) : undefined;
}

/** Kit: base64 of "[id]", the shape of Kit's own cursors (e.g. "WzEwMDAwMDBd"). */
export function encodeKitCursor(id: number): string {
  return Buffer.from(JSON.stringify([id])).toString('base64');
}

export function decodeKitCursor(cursor: string): number | undefined {
  const parsed = parseJson(Buffer.from(cursor, 'base64').toString('utf8'));
  return Array.isArray(parsed) && parsed.length === 1 && Number.isSafeInteger(parsed[0])
    ? (parsed[0] as number)
    : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
