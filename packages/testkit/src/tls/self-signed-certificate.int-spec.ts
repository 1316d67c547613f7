import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { loadOrCreateCertificate } from './certificate-dir';
import { createSelfSignedCertificate } from './self-signed-certificate';

/** Completes a TLS handshake to a server holding `certificate`, as a client trusting it. */
async function handshake(
  certificate: { cert: string; key: string },
  servername: string,
): Promise<void> {
  const server = createServer(certificate, (socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(
        { port, host: '127.0.0.1', servername, ca: [certificate.cert] },
        () => {
          socket.end();
          resolve();
        },
      );
      socket.on('error', reject);
    });
  } finally {
    server.close();
  }
}

describe('createSelfSignedCertificate', () => {
  const certificate = createSelfSignedCertificate(['mail', 'localhost', '127.0.0.1']);

  it('names every host and signs itself', () => {
    const x509 = new X509Certificate(certificate.cert);
    expect(x509.subjectAltName).toBe('DNS:mail, DNS:localhost, IP Address:127.0.0.1');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(certificate.key))).toBe(true);
  });

  it('is accepted by a client that trusts it, with hostname checks on', async () => {
    await expect(handshake(certificate, 'mail')).resolves.toBeUndefined();
  });

  it('is refused for a name it was not made for', async () => {
    await expect(handshake(certificate, 'elsewhere')).rejects.toThrow(/altnames|Hostname/i);
  });
});

describe('loadOrCreateCertificate', () => {
  it('keeps the certificate it made while it names every host, and replaces it when not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sn-tls-'));
    const first = loadOrCreateCertificate(dir, ['mail']);
    expect(loadOrCreateCertificate(dir, ['mail']).cert).toBe(first.cert);
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);

    const wider = loadOrCreateCertificate(dir, ['mail', 'fake-esp']);
    expect(wider.cert).not.toBe(first.cert);
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe(wider.cert);
  });
});
