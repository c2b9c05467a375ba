/**
 * HTTPS: the certificate and key (PEM files) read at start-up and again on reload (SIGHUP). A reload changes the
 * certificate of new connections only (tls.Server#setSecureContext); open connections go on with the old one.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';

/** The PEM texts of a certificate (chain) and its private key. */
export interface TlsIdentity {
  cert: Buffer;
  key: Buffer;
}

/** Where the certificate and key are. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** A certificate or key that cannot be used; the message names the files. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

function read(path: string, what: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new TlsFileError(
      `Cannot read the TLS ${what} ${path} (${flag}): ${why ?? (error as Error).message}`,
    );
  }
}

/**
 * Reads and checks the certificate and key: both PEM, the key unencrypted and matching the certificate. Throws
 * TlsFileError naming the files otherwise.
 */
export function readTlsFiles(files: TlsFiles): TlsIdentity {
  const cert = read(files.cert, 'certificate', '--tls-cert');
  const key = read(files.key, 'key', '--tls-key');
  if (!cert.includes('-----BEGIN CERTIFICATE-----'))
    throw new TlsFileError(`The TLS certificate ${files.cert} (--tls-cert) holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1')))
    throw new TlsFileError(`The TLS key ${files.key} (--tls-key) holds no PEM private key`);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const reason = (error as Error).message;
    const why = /key values mismatch/i.test(reason) ? 'the key does not belong to the certificate' : reason;
    throw new TlsFileError(`The TLS certificate ${files.cert} and key ${files.key} cannot be used: ${why}`);
  }
  return { cert, key };
}

/** Gives new connections of a listening HTTPS server another certificate; open connections keep theirs. */
export function replaceCertificate(server: unknown, identity: TlsIdentity): void {
  (server as TlsServer).setSecureContext({ cert: identity.cert, key: identity.key });
}
