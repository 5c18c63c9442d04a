// Secrets at rest: AES-256-GCM under named keys, so that a store knows which of its keys opens a
// secret and can rotate. Every durable store seals the same way: secrets in a backup open in any of them.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { CallOptions } from '../contracts/adapter.ts';
import { CoreError } from '../errors.ts';

const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;

/** A key as configured: 64 hex characters, or base64 (standard or URL-safe) of 32 bytes. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, 'base64');
  return decoded.length === keyBytes ? decoded : undefined;
}

/**
 * Names a key without revealing it: stored next to each ciphertext, so that a store knows which of
 * its keys opens a secret and rotation can tell old ciphertexts from current ones. The label keeps
 * its historical text: changing it would orphan every stored secret and backup.
 */
export function keyIdOf(key: Uint8Array): string {
  return `k-${createHash('sha256').update('docker-watcher/store-sqlite key id\n').update(key).digest('hex').slice(0, 16)}`;
}

export interface Keyring {
  /** Id of the key new secrets are encrypted with; undefined without `encryptionKey`. */
  readonly currentId: string | undefined;
  readonly keys: ReadonlyMap<string, Buffer>;
}

export function createKeyring(current: string | undefined, previous: readonly string[]): Keyring {
  const keys = new Map<string, Buffer>();
  let currentId: string | undefined;
  for (const [index, text] of [current, ...previous].entries()) {
    if (text === undefined) continue;
    const key = decodeKey(text);
    // The options schema checked every key; this guards direct callers.
    if (!key) throw new CoreError('CONFIG_INVALID', 'An encryption key is not 32 bytes of hex or base64');
    const id = keyIdOf(key);
    if (index === 0) currentId = id;
    if (!keys.has(id)) keys.set(id, key);
  }
  return { currentId, keys };
}

export interface SealedSecret {
  readonly keyId: string;
  readonly iv: Uint8Array;
  readonly tag: Uint8Array;
  readonly ciphertext: Uint8Array;
}

// Binds a ciphertext to its name: a row copied under another name does not decrypt.
const aad = (name: string): Buffer => Buffer.from(`docker-watcher/secret\n${name}`, 'utf8');

function keyFor(keyring: Keyring, keyId: string, name: string): Buffer {
  const key = keyring.keys.get(keyId);
  if (key) return key;
  const configured = [...keyring.keys.keys()];
  throw new CoreError(
    'CONFIG_INVALID',
    `Secret "${name}" is encrypted with key ${keyId}, which is neither encryptionKey nor one of previousKeys` +
      ` (configured: ${configured.length === 0 ? 'none' : configured.join(', ')}); nothing was changed`,
    { retryable: false, details: { secret: name, keyId, configuredKeyIds: configured } },
  );
}

/** Encrypts under the current key; `CONFIG_INVALID` when there is none. */
export function sealSecret(keyring: Keyring, name: string, value: string): SealedSecret {
  const keyId = keyring.currentId;
  if (keyId === undefined) {
    throw new CoreError('CONFIG_INVALID', 'Storing a secret needs the encryptionKey option', {
      details: { secret: name },
    });
  }
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', keyFor(keyring, keyId, name), iv, { authTagLength: tagBytes });
  cipher.setAAD(aad(name));
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { keyId, iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Decrypts with whichever configured key the secret names; never puts the value into an error. */
export function openSecret(keyring: Keyring, name: string, sealed: SealedSecret): string {
  const key = keyFor(keyring, sealed.keyId, name);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: tagBytes });
    decipher.setAAD(aad(name));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new CoreError(
      'INTERNAL',
      `Secret "${name}" does not authenticate under key ${sealed.keyId}: the stored ciphertext was altered or damaged`,
      { retryable: false, details: { secret: name, keyId: sealed.keyId }, cause: error },
    );
  }
}

/** What a store that keeps encrypted secrets offers besides the StateStore contract. */
export interface SecretStore {
  /** Encrypts `value` under `encryptionKey` and stores it under `name`, replacing an earlier value. */
  putSecret(params: CallOptions & { readonly name: string; readonly value: string }): Promise<void>;
  /** The decrypted value, `undefined` when absent; `CONFIG_INVALID` when no configured key opens it. */
  getSecret(params: CallOptions & { readonly name: string }): Promise<string | undefined>;
  /** `false` when there was no such secret. */
  deleteSecret(params: CallOptions & { readonly name: string }): Promise<boolean>;
  /** Names only, sorted. */
  listSecretNames(params?: CallOptions): Promise<string[]>;
  /**
   * Re-encrypts every secret that is not under `encryptionKey` with it, in one transaction: when one
   * cannot be opened (`CONFIG_INVALID`), nothing changes.
   */
  rotateSecrets(
    params?: CallOptions,
  ): Promise<{ readonly rotated: number; readonly total: number; readonly keyId: string }>;
}
