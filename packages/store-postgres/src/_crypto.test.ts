import { describe, expect, it } from 'vitest';
import { keys } from '../test/live-postgres.ts';
import { createKeyring, decodeKey, keyIdOf, openSecret, sealSecret } from './_crypto.ts';

describe('secret sealing', () => {
  const keyring = createKeyring(keys.first, [keys.second]);

  it('reads keys as hex, base64 and base64url, and refuses anything else', () => {
    expect(decodeKey(keys.first)).toEqual(Buffer.alloc(32, 0x0f));
    expect(decodeKey(keys.second)).toEqual(Buffer.alloc(32, 7));
    expect(decodeKey(keys.third)).toEqual(Buffer.alloc(32, 9));
    for (const bad of ['', 'ab'.repeat(31), Buffer.alloc(31).toString('base64'), 'passphrase'])
      expect(decodeKey(bad)).toBeUndefined();
  });

  it('names keys as store-sqlite does, so that backups move between the stores', () => {
    // The id store-sqlite gives this key: backups from either store carry it.
    expect(keyIdOf(Buffer.alloc(32, 0x0f))).toBe('k-f6313adec02281c0');
    expect(keyring.currentId).toBe('k-f6313adec02281c0');
  });

  it('round-trips under the current key, opens previous keys, binds the name and detects tampering', () => {
    const sealed = sealSecret(keyring, 'gitea-token', 'hunter2 ✓');
    expect(openSecret(keyring, 'gitea-token', sealed)).toBe('hunter2 ✓');
    const old = sealSecret(createKeyring(keys.second, []), 'npm-password', 'old value');
    expect(openSecret(keyring, 'npm-password', old)).toBe('old value');
    expect(() => openSecret(keyring, 'other', sealed)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext).map((byte) => byte ^ 1) };
    expect(() => openSecret(keyring, 'gitea-token', tampered)).toThrow(/altered or damaged/);
    const unknown = sealSecret(createKeyring(keys.third, []), 'x', 'the value');
    expect(() => openSecret(keyring, 'x', unknown)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
