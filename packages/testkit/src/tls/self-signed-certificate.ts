import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/** A certificate and its private key, PEM-encoded. */
export interface SelfSignedCertificate {
  cert: string;
  key: string;
}

// Minimal DER (X.690) encoding: just what one X.509 v3 certificate needs.
function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a * 40 + b];
  for (const part of rest) {
    const chunk = [part & 0x7f];
    for (let v = part >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const generalizedTime = (date: Date) =>
  tlv(0x18, Buffer.from(`${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`, 'ascii'));
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.from([0]), bytes);
const octetString = (bytes: Buffer) => tlv(0x04, bytes);

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand '::' and write eight 16-bit groups.
  const [head, tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

/**
 * A self-signed certificate (ECDSA P-256, SHA-256) for `hosts` (DNS names or IP addresses), made
 * in-process with node:crypto, so a container built from a slim image needs no openssl. It is its
 * own trust anchor: a client trusts it by adding the certificate to its CAs (Node:
 * `NODE_EXTRA_CA_CERTS`), with hostname checks left on. For local stand-ins only (a mail sink, a
 * fake ESP): never a real service's certificate.
 */
export function createSelfSignedCertificate(
  hosts: readonly string[],
  options: { days?: number; now?: Date } = {},
): SelfSignedCertificate {
  if (hosts.length === 0) throw new Error('createSelfSignedCertificate needs at least one host');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.days ?? 825) * 86_400_000);
  const name = seq(set(seq(oid('2.5.4.3'), utf8(hosts[0]))));
  const subjectAltNames = hosts.map((host) =>
    isIP(host) ? tlv(0x87, ipBytes(host)) : tlv(0x82, Buffer.from(host, 'ascii')),
  );
  const keyId = createHash('sha1').update(spki).digest();
  const extensions = tlv(
    0xa3,
    seq(
      // basicConstraints: critical, CA:TRUE (it signs itself and is its own anchor)
      seq(
        oid('2.5.29.19'),
        tlv(0x01, Buffer.from([0xff])),
        octetString(seq(tlv(0x01, Buffer.from([0xff])))),
      ),
      // keyUsage: critical, digitalSignature + keyCertSign
      seq(
        oid('2.5.29.15'),
        tlv(0x01, Buffer.from([0xff])),
        octetString(tlv(0x03, Buffer.from([0x02, 0x84]))),
      ),
      // extendedKeyUsage: serverAuth
      seq(oid('2.5.29.37'), octetString(seq(oid('1.3.6.1.5.5.7.3.1')))),
      // subjectKeyIdentifier
      seq(oid('2.5.29.14'), octetString(octetString(keyId))),
      // subjectAltName
      seq(oid('2.5.29.17'), octetString(seq(...subjectAltNames))),
    ),
  );
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    name,
    seq(generalizedTime(notBefore), generalizedTime(notAfter)),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ECDSA_WITH_SHA256, bitString(signature));
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
