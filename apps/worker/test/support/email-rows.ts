import { randomUUID } from 'node:crypto';
import { EncryptionService } from '@subscribernest/shared';

type Db = { query: <T = unknown>(sql: string, params?: unknown[]) => Promise<T> };

export interface LoginCodeRow {
  email: string;
  code: string;
  /** From now; negative for a code that already expired. Default 10 minutes. */
  expiresInMs?: number;
  consumed?: boolean;
  /** Default now; set it to order two codes of one address. */
  createdAt?: Date;
}

/**
 * A `login_codes` row as the api writes it (the code encrypted next to a hash the worker never
 * reads): what a login-code job names. Returns its id.
 */
export async function insertLoginCode(
  db: Db,
  encryption: EncryptionService,
  row: LoginCodeRow,
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO login_codes (id, email, code_hash, code_encrypted, expires_at, consumed_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      id,
      row.email,
      encryption.hmac(`login-code:${row.email}:${row.code}`),
      encryption.encrypt(row.code),
      new Date(Date.now() + (row.expiresInMs ?? 10 * 60_000)),
      row.consumed ? new Date() : null,
      row.createdAt ?? new Date(),
    ],
  );
  return id;
}

export async function loginCodeCiphertext(db: Db, id: string): Promise<string | null> {
  const [row] = await db.query<{ code_encrypted: string | null }[]>(
    'SELECT code_encrypted FROM login_codes WHERE id = $1',
    [id],
  );
  return row?.code_encrypted ?? null;
}

export interface SignInRow {
  email: string;
  signedInAt?: Date;
  ip?: string | null;
  userAgent?: string | null;
}

/** A user and one session of theirs, as a sign-in leaves them: what a notification job names. */
export async function insertSignIn(
  db: Db,
  row: SignInRow,
): Promise<{ userId: string; sessionId: string }> {
  const userId = randomUUID();
  const sessionId = randomUUID();
  await db.query('INSERT INTO users (id, email) VALUES ($1, $2)', [userId, row.email]);
  await db.query(
    `INSERT INTO sessions (id, user_id, token_hash, expires_at, ip, user_agent, created_at)
     VALUES ($1, $2, $3, now() + interval '30 days', $4, $5, $6)`,
    [
      sessionId,
      userId,
      randomUUID(),
      row.ip ?? null,
      row.userAgent ?? null,
      row.signedInAt ?? new Date(),
    ],
  );
  return { userId, sessionId };
}
