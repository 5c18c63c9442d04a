import { describe, expect, it } from 'vitest';
import { createKeyring, decodeKey, keyIdOf, openSecret, sealSecret } from './secret-box.ts';

/** Three 32-byte keys, written as an operator would put them into the environment. */
const keys = {
  first: '0f'.repeat(32),
  second: Buffer.alloc(32, 7).toString('base64'),
  third: Buffer.alloc(32, 9).toString('base64url'),
} as const;

describe('decodeKey', () => {
  it('reads 32 bytes as hex, base64 and base64url', () => {
    expect(decodeKey(keys.first)).toEqual(Buffer.alloc(32, 0x0f));
    expect(decodeKey(keys.second)).toEqual(Buffer.alloc(32, 7));
    expect(decodeKey(keys.third)).toEqual(Buffer.alloc(32, 9));
    expect(decodeKey(` ${keys.first}\n`)).toEqual(Buffer.alloc(32, 0x0f));
  });

  it('refuses other lengths and alphabets', () => {
    for (const bad of [
      '',
      'ab'.repeat(31),
      'ab'.repeat(33),
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      'é'.repeat(44),
      'passphrase',
    ]) {
      expect(decodeKey(bad)).toBeUndefined();
    }
  });
});

describe('keyIdOf', () => {
  it('names keys as store-sqlite always has, so that stored secrets and backups stay readable in every store', () => {
    // The id store-sqlite has always given this key: databases and backups carry it.
    expect(keyIdOf(Buffer.alloc(32, 0x0f))).toBe('k-f6313adec02281c0');
    expect(createKeyring(keys.first, [keys.second]).currentId).toBe('k-f6313adec02281c0');
  });
});

describe('sealSecret / openSecret', () => {
  const keyring = createKeyring(keys.first, [keys.second]);

  it('round-trips under the current key, with a fresh iv each time', () => {
    const a = sealSecret(keyring, 'gitea-token', 'hunter2 ✓');
    const b = sealSecret(keyring, 'gitea-token', 'hunter2 ✓');
    expect(a.keyId).toBe(keyIdOf(Buffer.alloc(32, 0x0f)));
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).toString('utf8')).not.toContain('hunter2');
    expect(openSecret(keyring, 'gitea-token', a)).toBe('hunter2 ✓');
  });

  it('opens secrets of a previous key', () => {
    const old = sealSecret(createKeyring(keys.second, []), 'npm-password', 'old value');
    expect(openSecret(keyring, 'npm-password', old)).toBe('old value');
  });

  it('refuses a key it does not have with CONFIG_INVALID, naming key ids only', () => {
    const sealed = sealSecret(createKeyring(keys.third, []), 'npm-password', 'the value');
    let caught: unknown;
    try {
      openSecret(keyring, 'npm-password', sealed);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'CONFIG_INVALID',
      retryable: false,
      details: { keyId: sealed.keyId },
    });
    const text = JSON.stringify(caught) + String((caught as Error).message);
    for (const secret of ['the value', keys.first, keys.second, keys.third])
      expect(text).not.toContain(secret);
  });

  it('binds a ciphertext to its name and detects tampering', () => {
    const sealed = sealSecret(keyring, 'a', 'value');
    expect(() => openSecret(keyring, 'b', sealed)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext).map((byte) => byte ^ 1) };
    expect(() => openSecret(keyring, 'a', tampered)).toThrow(/altered or damaged/);
  });

  it('needs a current key to seal', () => {
    expect(() => sealSecret(createKeyring(undefined, [keys.second]), 'a', 'value')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('gives different keys different ids', () => {
    const ids = [keys.first, keys.second, keys.third].map((key) =>
      keyIdOf(decodeKey(key) ?? Buffer.alloc(0)),
    );
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^k-[0-9a-f]{16}$/);
  });
});
