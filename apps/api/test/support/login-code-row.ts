import { EncryptionService } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/**
 * The code waiting in `login_codes` for the worker to mail, decrypted: what a test reads instead
 * of the inbox. The job itself carries the row's id only.
 */
export async function waitingLoginCode(
  database: Pick<DataSource, 'query'>,
  encryption: EncryptionService,
  loginCodeId: string,
): Promise<string> {
  const [row] = await database.query<{ code_encrypted: string | null }[]>(
    'SELECT code_encrypted FROM login_codes WHERE id = $1',
    [loginCodeId],
  );
  if (!row?.code_encrypted) throw new Error(`login code ${loginCodeId} holds no code to send`);
  return encryption.decrypt(row.code_encrypted);
}

/** The same for a test that runs the api as a process and has only its database URL. */
export async function waitingLoginCodeAt(
  databaseUrl: string,
  encryption: EncryptionService,
  loginCodeId: string,
): Promise<string> {
  const database = await new DataSource({ type: 'postgres', url: databaseUrl }).initialize();
  try {
    return await waitingLoginCode(database, encryption, loginCodeId);
  } finally {
    await database.destroy();
  }
}
