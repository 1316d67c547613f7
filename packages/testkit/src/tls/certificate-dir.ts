import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSelfSignedCertificate, SelfSignedCertificate } from './self-signed-certificate';

/** The certificate file in a directory written by `loadOrCreateCertificate`: what clients trust. */
export const CERTIFICATE_FILE = 'cert.pem';
const KEY_FILE = 'key.pem';

function covers(cert: string, hosts: readonly string[]): boolean {
  try {
    const x509 = new X509Certificate(cert);
    if (new Date(x509.validTo).getTime() < Date.now() + 86_400_000) return false;
    return hosts.every((host) =>
      isIP(host) ? x509.checkIP(host) !== undefined : x509.checkHost(host) !== undefined,
    );
  } catch {
    return false;
  }
}

/**
 * The self-signed certificate in `dir` (`cert.pem`, `key.pem`), made there first when it is
 * missing, expiring or does not name every one of `hosts`. Kept in a directory (a compose volume)
 * so a restarted sink serves the same certificate its clients loaded at start-up. Files are
 * written whole (temp file + rename), so a reader never sees half of one.
 */
export function loadOrCreateCertificate(
  dir: string,
  hosts: readonly string[],
): SelfSignedCertificate {
  const certPath = join(dir, CERTIFICATE_FILE);
  const keyPath = join(dir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const existing = { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
    if (covers(existing.cert, hosts)) return existing;
  }
  mkdirSync(dir, { recursive: true });
  const created = createSelfSignedCertificate(hosts);
  writeFileSync(`${keyPath}.tmp`, created.key, { mode: 0o600 });
  renameSync(`${keyPath}.tmp`, keyPath);
  writeFileSync(`${certPath}.tmp`, created.cert, { mode: 0o644 });
  renameSync(`${certPath}.tmp`, certPath);
  return created;
}

/** Reads the certificate and key `loadOrCreateCertificate` wrote, waiting up to `timeoutMs`. */
export async function readCertificate(
  dir: string,
  timeoutMs = 30_000,
): Promise<SelfSignedCertificate> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return {
        cert: readFileSync(join(dir, CERTIFICATE_FILE), 'utf8'),
        key: readFileSync(join(dir, KEY_FILE), 'utf8'),
      };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
