/**
 * The rows of a raw `query()`: TypeORM's Postgres driver answers `[rows, count]` for UPDATE and
 * DELETE (their RETURNING rows first) and `rows` for everything else, so a fenced
 * `UPDATE … RETURNING` read as `rows.length` would always see two.
 */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && typeof result[1] === 'number') {
    return (Array.isArray(result[0]) ? result[0] : []) as T[];
  }
  return result as T[];
}
