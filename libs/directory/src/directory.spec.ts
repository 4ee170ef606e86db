import { describeDirectoryProblem, parseDirectory } from './directory';

const unit = (transport: Record<string, unknown>) => JSON.stringify({ units: [{ hsaId: 'SE2120000001-X1', name: 'X', role: 'hospital', dialect: 'samsa', transport }] });
const problems = (text: string) => {
  const parsed = parseDirectory(text);
  return parsed.ok ? [] : parsed.problems.map(describeDirectoryProblem);
};

describe('HTTP recipients in the directory', () => {
  it('takes https, and plain http only where the unit allows it explicitly', () => {
    expect(problems(unit({ kind: 'http', url: 'https://example.org/svu' }))).toEqual([]);
    expect(problems(unit({ kind: 'http', url: 'http://example.org/svu', allowInsecureHttp: true }))).toEqual([]);
    expect(problems(unit({ kind: 'http', url: 'http://example.org/svu' }))).toEqual(['units[0].transport.url: must be https (or set allowInsecureHttp: true for this unit)']);
  });

  it('takes one bearer token source, or a user name and a password source, and a certificate with its key', () => {
    const https = { kind: 'http', url: 'https://example.org/svu' };
    expect(problems(unit({ ...https, auth: { bearerTokenFile: '/run/secrets/token' } }))).toEqual([]);
    expect(problems(unit({ ...https, auth: { usernameEnv: 'U', passwordFile: '/run/secrets/p' } }))).toEqual([]);
    expect(problems(unit({ ...https, tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' } }))).toEqual([]);
    const authProblem = 'units[0].transport.auth: must name one bearer token source (bearerTokenFile or bearerTokenEnv), or one user name source and one password source';
    expect(problems(unit({ ...https, auth: { bearerTokenFile: 't', bearerTokenEnv: 'T' } }))).toEqual([authProblem]);
    expect(problems(unit({ ...https, auth: { usernameEnv: 'U' } }))).toEqual([authProblem]);
    expect(problems(unit({ ...https, auth: { bearerTokenEnv: 'T', passwordEnv: 'P' } }))).toEqual([authProblem]);
    expect(problems(unit({ ...https, tls: { certFile: 'c.pem' } }))).toEqual(['units[0].transport.tls: needs certFile and keyFile together']);
  });

  it('refuses a secret written into the directory itself', () => {
    expect(problems(unit({ kind: 'http', url: 'https://example.org/svu', auth: { bearerToken: 'secret' } }))).not.toEqual([]);
    expect(problems(unit({ kind: 'http', url: 'https://example.org/svu', auth: { bearerTokenEnv: 'not a name' } }))).not.toEqual([]);
  });
});
