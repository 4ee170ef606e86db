import { exampleBytes, exampleCanonical } from '../../../../test/fixtures/contract-examples';
import { problemLines, problemPaths, readValid } from '../../../../test/fixtures/read-helpers';

const doc = (type: Parameters<typeof exampleBytes>[0] = 'admission'): Record<string, any> =>
  JSON.parse(exampleBytes(type, 'samsa').toString('utf8'));
const lines = (value: unknown) => problemLines('samsa', JSON.stringify(value));

describe('samsa reader', () => {
  it('reports a value of another JSON type at the canonical path', () => {
    const d = doc();
    d.patient.kommunkod = 1480;
    d.patient.skyddadIdentitet = 'false';
    d.inskrivning.behov = 'hemtjanst';
    d.mottagare[0] = 'SE2120001637-K000000001480';
    expect(lines(d)).toEqual([
      'recipients[0]: must be an object',
      'patient.protectedIdentity: must be true or false',
      'patient.municipality: must be a string',
      'body.needs: must be a list',
    ]);
  });

  it('refuses an instant with an offset or without seconds', () => {
    const d = doc();
    d.skickad = '2026-03-28T14:05:00+01:00';
    d.inskrivning.inskriven = '2026-03-28T09:40Z';
    expect(problemPaths('samsa', JSON.stringify(d))).toEqual(['sentAt', 'body.admittedAt']);
  });

  it('ignores unknown keys, and __proto__ and constructor keys pollute nothing', () => {
    const text = exampleBytes('admission', 'samsa')
      .toString('utf8')
      .replace('{', '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "okand": 1,');
    expect(readValid('samsa', text)).toEqual(exampleCanonical('admission'));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('reads an empty list and an empty string as absent', () => {
    const d = doc();
    d.inskrivning.behov = [];
    d.patient.fornamn = '   ';
    expect(problemPaths('samsa', JSON.stringify(d))).toEqual(['patient.givenName']);
  });

  it('refuses a document that is not a JSON object', () => {
    expect(problemLines('samsa', '[1,2]')).toEqual(['message: must be a JSON object']);
    expect(problemPaths('samsa', '{"meddelandeId": ')).toEqual(['message']);
  });

  it('treats the body key of another type as unknown', () => {
    const d = doc('discharged');
    d.utskrivningsklar = d.utskriven;
    delete d.utskriven;
    expect(problemPaths('samsa', JSON.stringify(d))).toEqual(['body.dischargedAt', 'body.destination']);
  });
});

describe('canonical reader', () => {
  it('trims strings and reads CRLF as newline', () => {
    const m = exampleCanonical('message');
    m.body.text = '  Hej!\r\nKan ni skicka aktuell läkemedelslista före hemgång?\rMvh sjuksköterska \n';
    expect(readValid('canonical', JSON.stringify(m)).body).toEqual(exampleCanonical('message').body);
  });
  it('ignores __proto__ keys', () => {
    const text = exampleBytes('admission', 'canonical').toString('utf8').replace('{', '{"__proto__": {"type": "message"},');
    expect(readValid('canonical', text)).toEqual(exampleCanonical('admission'));
  });
});
