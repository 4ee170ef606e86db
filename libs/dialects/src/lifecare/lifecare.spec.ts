import { exampleBytes, exampleCanonical } from '../../../../test/fixtures/contract-examples';
import { problemLines, problemPaths, readValid } from '../../../../test/fixtures/read-helpers';

const admission = exampleBytes('admission', 'lifecare').toString('utf8');
const ack = exampleBytes('acknowledgement', 'lifecare').toString('utf8');

describe('lifecare reader', () => {
  it('matches elements by namespace URI: a default namespace is as good as the lc prefix', () => {
    const unprefixed = admission.replace(/lc:/g, '').replace('xmlns:lc=', 'xmlns=');
    expect(readValid('lifecare', unprefixed)).toEqual(exampleCanonical('admission'));
    const otherPrefix = admission.replace(/lc:/g, 'x:').replace('xmlns:lc=', 'xmlns:x=');
    expect(readValid('lifecare', otherPrefix)).toEqual(exampleCanonical('admission'));
  });

  it('refuses the right prefix bound to another namespace', () => {
    expect(problemLines('lifecare', admission.replace('urn:lifecare:sp:svu:2', 'urn:lifecare:sp:svu:1'))).toEqual([
      'message: root element must be SvuMessage in namespace urn:lifecare:sp:svu:2',
    ]);
  });

  it('ignores elements of another namespace with a known local name', () => {
    const foreign = admission.replace('<lc:Header>', '<lc:Header><o:MessageId xmlns:o="urn:other">NOPE</o:MessageId>');
    expect(readValid('lifecare', foreign).messageId).toBe('LC-2026-000123');
  });

  it('accepts any 2.x version and refuses others', () => {
    expect(problemPaths('lifecare', admission.replace('version="2.1"', 'version="2.9"'))).toEqual([]);
    expect(problemLines('lifecare', admission.replace('version="2.1"', 'version="3.0"'))).toEqual([
      'message: version "3.0" is not supported (2.x is)',
    ]);
  });

  it('refuses a DOCTYPE, with or without entities', () => {
    const bomb = admission.replace(
      '<lc:SvuMessage',
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n<lc:SvuMessage',
    );
    expect(problemPaths('lifecare', bomb)).toEqual(['message']);
    const external = admission.replace('<lc:SvuMessage', '<!DOCTYPE x SYSTEM "file:///etc/passwd">\n<lc:SvuMessage');
    expect(problemLines('lifecare', external)[0]).toMatch(/^message: has a DOCTYPE/);
  });

  it('refuses XML that is not well-formed, an undefined entity and bad UTF-8', () => {
    expect(problemPaths('lifecare', admission.replace('</lc:Reason>', '</lc:Orsak>'))).toEqual(['message']);
    expect(problemLines('lifecare', admission.replace('Höftfraktur', 'H&ouml;ftfraktur'))).toEqual([
      'message: uses the undefined entity "&ouml;"',
    ]);
    const bytes = Buffer.concat([Buffer.from(admission.slice(0, 300)), Buffer.from([0xc3, 0x28]), Buffer.from(admission.slice(300))]);
    expect(problemLines('lifecare', bytes)).toEqual(['message: is not valid UTF-8']);
  });

  it('refuses empty input', () => {
    expect(problemLines('lifecare', '')).toEqual(['message: is empty']);
    expect(problemLines('lifecare', ' \n ')).toEqual(['message: is empty']);
  });

  it('reads instants with any offset or Z, drops fractions, refuses one without offset', () => {
    const z = admission.replace('2026-03-28T10:40:00+01:00', '2026-03-28T09:40:00.987Z');
    expect(readValid('lifecare', z).body).toMatchObject({ admittedAt: '2026-03-28T09:40:00Z' });
    expect(problemLines('lifecare', admission.replace('2026-03-28T10:40:00+01:00', '2026-03-28T10:40:00'))).toEqual([
      'body.admittedAt: "2026-03-28T10:40:00" is not a date-time with offset that exists, like 2026-03-28T14:05:00+01:00',
    ]);
  });

  it('does not depend on element order or whitespace', () => {
    const reordered = admission
      .replace(/(<lc:Reason>.*<\/lc:Reason>)\s*/, '')
      .replace('<lc:Admission>', '<lc:Admission><lc:Reason>Höftfraktur</lc:Reason>')
      .replace(/\n\s*/g, '');
    expect(readValid('lifecare', reordered)).toEqual(exampleCanonical('admission'));
  });

  it('trims text, reads CRLF as newline and an empty element as absent', () => {
    const message = exampleBytes('message', 'lifecare').toString('utf8').replace(/\n(Kan|Mvh)/g, '\r\n$1').replace('<lc:Subject>', '<lc:Subject>  \n ');
    expect(readValid('lifecare', message).body).toEqual(exampleCanonical('message').body);
    const emptyTitle = exampleBytes('care-contact', 'lifecare').toString('utf8').replace(/<lc:Title>.*<\/lc:Title>/, '<lc:Title>  </lc:Title>');
    expect(readValid('lifecare', emptyTitle).body).not.toHaveProperty('title');
    const emptyNeeds = admission.replace(/<lc:Needs>[\s\S]*<\/lc:Needs>/, '<lc:Needs/>');
    expect(readValid('lifecare', emptyNeeds).body).not.toHaveProperty('needs');
  });

  it('reads CDATA as text and resolves character references', () => {
    const doc = admission.replace('<lc:Reason>Höftfraktur</lc:Reason>', '<lc:Reason><![CDATA[Höft & <fraktur>]]> &#x1F600;</lc:Reason>');
    expect(readValid('lifecare', doc).body).toMatchObject({ reason: 'Höft & <fraktur> 😀' });
  });

  it('reports unknown codes at the canonical path', () => {
    const doc = admission.replace('SOMATIK', 'KIRURGI').replace('HEMSJUKVARD', 'TRADGARD').replace('role="PRIMARVARD"', 'role="VC"');
    expect(problemLines('lifecare', doc)).toEqual([
      'recipients[1].role: unknown code "VC"',
      'body.careType: unknown code "KIRURGI"',
      'body.needs[1]: unknown code "TRADGARD"',
    ]);
  });

  it('needs the YYYYMMDD-NNNN form of personnummer and true/false for protection', () => {
    expect(problemLines('lifecare', admission.replace('19410708-6995', '194107086995'))).toEqual([
      'patient.id: must be written YYYYMMDD-NNNN',
    ]);
    expect(problemPaths('lifecare', admission.replace('<lc:ProtectedIdentity>false', '<lc:ProtectedIdentity>nej'))).toEqual([
      'patient.protectedIdentity',
    ]);
  });

  it('treats a body element of another type as unknown', () => {
    const doc = exampleBytes('discharged', 'lifecare').toString('utf8').replace(/Discharged>/g, 'ReadyForDischarge>').replace(/DischargedAt>/g, 'ReadyAt>');
    expect(problemPaths('lifecare', doc)).toEqual(['body.dischargedAt', 'body.destination']);
  });

  it('ignores a patient in an acknowledgement', () => {
    const withPatient = ack.replace('</lc:Header>', '</lc:Header><lc:Patient idType="PNR"><lc:Id>garbage</lc:Id></lc:Patient>');
    expect(readValid('lifecare', withPatient)).toEqual(exampleCanonical('acknowledgement'));
  });

  it('refuses element nesting deeper than any message needs', () => {
    const deep = admission.replace('<lc:Reason>', `<lc:Reason>${'<a>'.repeat(100)}${'</a>'.repeat(100)}`);
    expect(problemLines('lifecare', deep)[0]).toMatch(/^message: .*nest/i);
  });
});
