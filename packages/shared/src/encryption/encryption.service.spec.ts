import { createHash, randomBytes } from 'node:crypto';
import { DecryptionError, EncryptionService } from './encryption.service';
import { parseKeyList, parseNamedKey, parseSecretKey } from './encryption-keys';
import { maskEmail } from './mask-email';

const key = () => randomBytes(32).toString('base64');

function service(current: string, previous = '', hmacKey = key()) {
  return EncryptionService.fromSettings({
    ENCRYPTION_KEY: current,
    ENCRYPTION_PREVIOUS_KEYS: previous,
    HMAC_KEY: hmacKey,
  });
}

describe('EncryptionService', () => {
  const k1 = `k1:${key()}`;

  it('round-trips text, including unicode and the empty string', () => {
    const encryption = service(k1);
    for (const text of ['sk_live_abc123', 'jöhn+tag@exämple.com', '', 'x'.repeat(10_000)]) {
      expect(encryption.decrypt(encryption.encrypt(text))).toBe(text);
    }
  });

  it('uses a fresh IV for every value, so equal inputs give different ciphertexts', () => {
    const encryption = service(k1);
    expect(encryption.encrypt('same')).not.toBe(encryption.encrypt('same'));
  });

  it('encrypts a batch from one random fill, still with a distinct IV per value', () => {
    const encryption = service(k1);
    const texts = ['a@example.com', 'same', 'same', '', 'jöhn@exämple.com'];
    const ciphertexts = encryption.encryptMany(texts);
    expect(ciphertexts.map((c) => encryption.decrypt(c))).toEqual(texts);
    const ivs = ciphertexts.map((c) => c.split('.')[2]);
    expect(new Set(ivs).size).toBe(texts.length);
    expect(encryption.encryptMany([])).toEqual([]);
  });

  it('writes a versioned format that names the key id and hides the plaintext', () => {
    const ciphertext = service(k1).encrypt('secret-api-key');
    expect(ciphertext).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(ciphertext).not.toContain('secret-api-key');
  });

  it('rejects a value with any single byte flipped', () => {
    const encryption = service(k1);
    const ciphertext = encryption.encrypt('hello world');
    const [version, keyId, iv, body] = ciphertext.split('.');
    const bytes = Buffer.from(body, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = tampered[i] ^ 0x01;
      expect(() =>
        encryption.decrypt(`${version}.${keyId}.${iv}.${tampered.toString('base64url')}`),
      ).toThrow(DecryptionError);
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    ivBytes[0] = ivBytes[0] ^ 0x80;
    expect(() =>
      encryption.decrypt(`${version}.${keyId}.${ivBytes.toString('base64url')}.${body}`),
    ).toThrow(DecryptionError);
  });

  it('rejects a value whose key id was swapped for another known key', () => {
    const k2 = `k2:${key()}`;
    const encryption = service(k2, k1);
    const ciphertext = service(k1).encrypt('x').replace('.k1.', '.k2.');
    expect(() => encryption.decrypt(ciphertext)).toThrow(DecryptionError);
  });

  it('rejects malformed values and unknown key ids with a reason, never the value', () => {
    const encryption = service(k1);
    expect(() => encryption.decrypt('plain text')).toThrow('not in the v1 format');
    expect(() => encryption.decrypt('v2.k1.aaaa.bbbb')).toThrow('unsupported version');
    expect(() => encryption.decrypt('v1.nope.aaaaaaaaaaaaaaaa.bbbb')).toThrow(
      'unknown key id "nope"',
    );
    expect(() => encryption.decrypt('v1.k1.aa.bb')).toThrow('truncated value');
  });

  describe('key rotation', () => {
    it('decrypts values written with a previous key and encrypts new ones with the current key', () => {
      const k2 = `k2:${key()}`;
      const before = service(k1).encrypt('old value');
      const rotated = service(k2, k1);
      expect(rotated.decrypt(before)).toBe('old value');
      const after = rotated.encrypt('new value');
      expect(after.startsWith('v1.k2.')).toBe(true);
      expect(rotated.needsReencryption(before)).toBe(true);
      expect(rotated.needsReencryption(after)).toBe(false);
    });

    it('no longer decrypts values of a key that was removed', () => {
      const before = service(k1).encrypt('old value');
      expect(() => service(`k2:${key()}`).decrypt(before)).toThrow('unknown key id "k1"');
    });

    it('refuses a key id that is both current and previous', () => {
      expect(() => service(k1, `k1:${key()}`)).toThrow('both current and previous');
    });
  });

  describe('hmac', () => {
    it('is deterministic per key and differs between keys', () => {
      const hmacKey = key();
      expect(service(k1, '', hmacKey).hmac('a')).toBe(
        service(`k9:${key()}`, '', hmacKey).hmac('a'),
      );
      expect(service(k1).hmac('a')).not.toBe(service(k1).hmac('a'));
      expect(service(k1).hmac('a')).toMatch(/^[0-9a-f]{64}$/);
    });

    it('normalises addresses so case and spaces never split one person', () => {
      const encryption = service(k1);
      expect(encryption.emailHmac(' Jane@Example.COM ')).toBe(
        encryption.emailHmac('jane@example.com'),
      );
    });
  });

  describe('contentDigest', () => {
    it('is 16 bytes as 32 hex digits, deterministic per HMAC key, and differs between keys and texts', () => {
      const hmacKey = key();
      const digest = service(k1, '', hmacKey).contentDigest('["jane@example.com"]');
      expect(digest).toMatch(/^[0-9a-f]{32}$/);
      expect(service(`k9:${key()}`, '', hmacKey).contentDigest('["jane@example.com"]')).toEqual(
        digest,
      );
      expect(service(k1).contentDigest('["jane@example.com"]')).not.toEqual(digest);
      expect(service(k1, '', hmacKey).contentDigest('["jane@example.org"]')).not.toEqual(digest);
    });

    it('is not the plain hash of the text, so a stored digest cannot be matched to a guess', () => {
      const text = '["jane@example.com"]';
      const plain = createHash('sha256').update(text).digest('hex').slice(0, 32);
      expect(service(k1).contentDigest(text)).not.toEqual(plain);
    });
  });
});

describe('key parsing', () => {
  it('accepts base64 of exactly 32 bytes', () => {
    expect(parseSecretKey(key())).toHaveLength(32);
  });

  it.each([
    ['not base64', 'not base64!', 'must be base64'],
    ['too short', randomBytes(16).toString('base64'), 'must decode to 32 bytes, got 16'],
    ['too long', randomBytes(48).toString('base64'), 'must decode to 32 bytes, got 48'],
    ['empty', '', 'must be base64'],
  ])('rejects a key that is %s', (_case, value, message) => {
    expect(() => parseSecretKey(value)).toThrow(message);
  });

  it('needs a key id before the key and never echoes the key', () => {
    const secret = key();
    expect(() => parseNamedKey(secret)).toThrow('<key id>:<base64 of 32 bytes>');
    expect(() => parseNamedKey(`bad id!:${secret}`)).toThrow('key id must be');
    try {
      parseNamedKey(`k1:${secret.slice(0, 20)}`);
    } catch (error) {
      expect((error as Error).message).not.toContain(secret.slice(0, 20));
    }
  });

  it('parses a list of previous keys and rejects duplicate ids', () => {
    expect(parseKeyList('')).toEqual([]);
    expect(parseKeyList(`a:${key()}, b:${key()}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseKeyList(`a:${key()},a:${key()}`)).toThrow('lists key id "a" twice');
  });
});

describe('maskEmail', () => {
  it.each([
    ['jane.doe@example.com', 'j***@e***.com'],
    ['a@b.co.uk', 'a***@b***.uk'],
    ['x@localhost', 'x***@l***'],
    ['not-an-email', '***'],
    ['@example.com', '***'],
    ['jane@', '***'],
  ])('masks %s as %s', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });
});
