import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { fileReadError } from '@svu/canonical';
import type { GatewayConfig } from './gateway-config';

/** The PEM files of HTTPS, read and checked. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/**
 * Reads SVU_TLS_CERT, SVU_TLS_KEY and SVU_TLS_CA and checks that they are what they should be, so
 * that a wrong one stops the start with one line naming the setting, the file and what is wrong
 * (missing, not a certificate, a key of another certificate), not with OpenSSL's message alone.
 */
export function readTlsFiles(tls: NonNullable<GatewayConfig['tls']>): TlsFiles {
  const refuse = (what: string, name: string, path: string, reason: string) => new Error(`${what} ${path} (${name}): ${reason}`);
  const read = (what: string, name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw refuse(what, name, path, fileReadError(error));
    }
  };
  const certificate = (what: string, name: string, path: string, bytes: Buffer) => {
    try {
      return new X509Certificate(bytes);
    } catch {
      throw refuse(what, name, path, 'holds no certificate (PEM)');
    }
  };
  const cert = read('TLS certificate', 'SVU_TLS_CERT', tls.certPath);
  const x509 = certificate('TLS certificate', 'SVU_TLS_CERT', tls.certPath, cert);
  const key = read('TLS key', 'SVU_TLS_KEY', tls.keyPath);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw refuse('TLS key', 'SVU_TLS_KEY', tls.keyPath, 'holds no private key (PEM, without a passphrase)');
  }
  if (!x509.checkPrivateKey(privateKey)) throw refuse('TLS key', 'SVU_TLS_KEY', tls.keyPath, `is not the key of the certificate in SVU_TLS_CERT (${tls.certPath})`);
  let ca: Buffer | undefined;
  if (tls.caPath !== undefined) {
    ca = read('client CA bundle', 'SVU_TLS_CA', tls.caPath);
    certificate('client CA bundle', 'SVU_TLS_CA', tls.caPath, ca);
  }
  // What is left (a broken certificate further down a chain or bundle): as OpenSSL says it.
  try {
    createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) });
  } catch (error) {
    throw new Error(`HTTPS files (SVU_TLS_CERT ${tls.certPath}, SVU_TLS_KEY ${tls.keyPath}${tls.caPath === undefined ? '' : `, SVU_TLS_CA ${tls.caPath}`}): ${(error as Error).message}`);
  }
  return { cert, key, ca };
}
