// Ed25519 keys of signed checkpoints: generation, loading from PEM text or files, and key ids.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '../errors';
import { ensurePrivateDir } from '../files/fs-util';

/** File names `auditrail keygen` writes. */
export const KEY_FILES = { privateKey: 'audit_signing_key.pem', publicKey: 'audit_signing_key.pub.pem' } as const;

/** A freshly generated checkpoint signing key pair, as PEM text. */
export interface SigningKeyPair {
  /** PKCS#8 PEM of the private key: keep it secret, next to the writers only. */
  privateKeyPem: string;
  /** SPKI PEM of the public key: give it to whoever verifies. */
  publicKeyPem: string;
  /** Short id of the key (recorded in every checkpoint it signs). */
  keyId: string;
}

/** Generates an Ed25519 key pair for signed checkpoints. */
export function generateSigningKeys(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/**
 * Writes a new key pair into `dir` (created 0700): the private key 0600, the public key 0644.
 * Refuses to overwrite an existing key unless `overwrite`.
 */
export function writeSigningKeys(dir: string, overwrite = false): { privateKeyPath: string; publicKeyPath: string; keyId: string } {
  ensurePrivateDir(dir);
  const privateKeyPath = join(dir, KEY_FILES.privateKey);
  const publicKeyPath = join(dir, KEY_FILES.publicKey);
  if (!overwrite && (existsSync(privateKeyPath) || existsSync(publicKeyPath))) {
    throw new InvalidOptionError('out', `${dir} already holds a signing key; move it aside first (rotating keys is described in docs/security.md)`);
  }
  const pair = generateSigningKeys();
  writeFileSync(privateKeyPath, pair.privateKeyPem, { mode: 0o600, flag: overwrite ? 'w' : 'wx' });
  chmodSync(privateKeyPath, 0o600); // whatever the umask
  writeFileSync(publicKeyPath, pair.publicKeyPem, { mode: 0o644, flag: overwrite ? 'w' : 'wx' });
  return { privateKeyPath, publicKeyPath, keyId: pair.keyId };
}

/** A private key from a KeyObject, PEM text or the path of a PEM file; it must be Ed25519. */
export function loadPrivateKey(key: KeyObject | string, option = 'checkpoints.privateKey'): KeyObject {
  const object = typeof key === 'string' ? parseKey(() => createPrivateKey(pemOrFile(key, option)), option, 'a private key') : keyObject(key, option);
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519') {
    throw new InvalidOptionError(option, `must be an Ed25519 private key, got ${object.type} ${object.asymmetricKeyType ?? ''}`.trim());
  }
  return object;
}

/** A public key from a KeyObject, PEM text (public or private) or a PEM file; it must be Ed25519. */
export function loadPublicKey(key: KeyObject | string, option = 'publicKey'): KeyObject {
  const given = typeof key === 'string' ? parseKey(() => createPublicKey(pemOrFile(key, option)), option, 'a public key') : keyObject(key, option);
  const object = given.type === 'private' ? createPublicKey(given) : given;
  if (object.asymmetricKeyType !== 'ed25519') throw new InvalidOptionError(option, `must be an Ed25519 key, got ${object.asymmetricKeyType ?? object.type}`);
  return object;
}

/** Short id of a key: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Runs `parse`, turning the decoder's error (a truncated PEM, a file that holds no key) into one naming `option`. */
function parseKey(parse: () => KeyObject, option: string, what: string): KeyObject {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidOptionError) throw err;
    throw new InvalidOptionError(option, `cannot be read as ${what}: ${(err as Error).message}`);
  }
}

/** `key` when it is a KeyObject, else an error naming `option` and what it got. */
function keyObject(key: unknown, option: string): KeyObject {
  if (key instanceof KeyObject) return key;
  throw new InvalidOptionError(option, `must be a KeyObject, PEM text or the path of a PEM file, got ${key === null ? 'null' : typeof key}`);
}

function pemOrFile(text: string, option: string): string {
  if (text.includes('-----BEGIN')) return text;
  try {
    return readFileSync(text, 'utf8');
  } catch (err) {
    throw new InvalidOptionError(option, `is neither PEM text nor a readable key file: ${(err as Error).message}`);
  }
}
