import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCa } from '../../../../test/support/tls';
import { readTlsFiles } from './tls-files';

describe('the HTTPS files (SVU_TLS_CERT, SVU_TLS_KEY, SVU_TLS_CA)', () => {
  const pki = testCa('tls-files');
  const server = pki.issue('server', '/CN=svu-gateway');
  const other = pki.issue('other', '/CN=someone-else');
  const junk = join(pki.dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');

  it('reads a certificate, its key and a client CA bundle', () => {
    const files = readTlsFiles({ certPath: server.certPath, keyPath: server.keyPath, caPath: pki.ca.certPath });
    expect(files).toEqual({ cert: server.cert, key: server.key, ca: pki.ca.cert });
  });

  it.each([
    ['a missing certificate', { certPath: join(pki.dir, 'none.crt'), keyPath: server.keyPath }, `TLS certificate ${join(pki.dir, 'none.crt')} (SVU_TLS_CERT): missing`],
    ['a key where the certificate should be', { certPath: server.keyPath, keyPath: server.keyPath }, `TLS certificate ${server.keyPath} (SVU_TLS_CERT): holds no certificate (PEM)`],
    ['a missing key', { certPath: server.certPath, keyPath: join(pki.dir, 'none.key') }, `TLS key ${join(pki.dir, 'none.key')} (SVU_TLS_KEY): missing`],
    ['a certificate where the key should be', { certPath: server.certPath, keyPath: server.certPath }, `TLS key ${server.certPath} (SVU_TLS_KEY): holds no private key (PEM, without a passphrase)`],
    ['the key of another certificate', { certPath: server.certPath, keyPath: other.keyPath }, `TLS key ${other.keyPath} (SVU_TLS_KEY): is not the key of the certificate in SVU_TLS_CERT (${server.certPath})`],
    ['a missing client CA bundle', { certPath: server.certPath, keyPath: server.keyPath, caPath: join(pki.dir, 'none.crt') }, `client CA bundle ${join(pki.dir, 'none.crt')} (SVU_TLS_CA): missing`],
    ['a client CA bundle without a certificate', { certPath: server.certPath, keyPath: server.keyPath, caPath: junk }, `client CA bundle ${junk} (SVU_TLS_CA): holds no certificate (PEM)`],
    ['a folder', { certPath: pki.dir, keyPath: server.keyPath }, `TLS certificate ${pki.dir} (SVU_TLS_CERT): is a folder, not a file`],
  ])('refuses %s in one line naming the setting and the file', (_what, tls, message) => {
    expect(() => readTlsFiles({ caPath: undefined, ...tls })).toThrow(new Error(message));
  });
});
