/**
 * Certificates made in the test with the openssl command: a private CA and server certificates it signs, for
 * 127.0.0.1 and localhost (P-256 keys: quick to make).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** True when the openssl command is there (Debian's openssl package). */
export const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
export const OPENSSL_SKIP = OPENSSL ? false : 'the openssl command is missing (apt-get install openssl)';

const openssl = (cwd: string, ...args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A private CA in `folder`: `ca.pem` (its certificate, what clients trust) and `ca.key`. */
export interface TestCa {
  folder: string;
  /** Path of the CA certificate. */
  certFile: string;
  /** The CA certificate, PEM. */
  pem: string;
}

export function makeCa(folder: string, name = 'kjobs test CA'): TestCa {
  openssl(
    folder,
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
  const certFile = join(folder, 'ca.pem');
  return { folder, certFile, pem: readFileSync(certFile, 'utf8') };
}

/** A server certificate for 127.0.0.1 and localhost signed by the CA: `NAME.pem` and `NAME.key` in its folder. */
export function makeServerCertificate(
  ca: TestCa,
  name: string,
): { certFile: string; keyFile: string; cert: Buffer; key: Buffer } {
  const extensions = join(ca.folder, `${name}.ext`);
  writeFileSync(
    extensions,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(ca.folder, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(
    ca.folder,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    extensions,
  );
  const certFile = join(ca.folder, `${name}.pem`);
  const keyFile = join(ca.folder, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
