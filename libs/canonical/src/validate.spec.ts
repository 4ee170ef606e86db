import { withCheckDigit } from '@svu/identity';
import { exampleCanonical } from '../../../test/fixtures/contract-examples';
import { formatPath } from './problem';
import { validateCanonical } from './validate';

type Msg = Record<string, any>;

/** Paths of the problems found in a message. */
function paths(message: Msg): string[] {
  const result = validateCanonical(message);
  return result.ok ? [] : result.problems.map((p) => formatPath(p.path));
}

/** A changed copy of an example. */
function changed(type: Parameters<typeof exampleCanonical>[0], change: (m: Msg) => void): Msg {
  const message = exampleCanonical(type);
  change(message);
  return message;
}

describe('canonical validation: one test per rule', () => {
  const cases: Array<[string, Parameters<typeof exampleCanonical>[0], (m: Msg) => void, string | string[]]> = [
    ['messageId pattern', 'admission', (m) => (m.messageId = 'LC 2026'), 'messageId'],
    ['messageId length 64', 'admission', (m) => (m.messageId = 'a'.repeat(65)), 'messageId'],
    ['type code', 'admission', (m) => (m.type = 'admision'), 'type'],
    ['episodeId pattern', 'admission', (m) => (m.episodeId = 'VT/1'), 'episodeId'],
    ['sentAt form', 'admission', (m) => (m.sentAt = '2026-03-28T14:05:00+01:00'), 'sentAt'],
    ['sentAt exists', 'admission', (m) => (m.sentAt = '2026-02-29T10:00:00Z'), 'sentAt'],
    ['sender required', 'admission', (m) => delete m.sender, 'sender'],
    ['sender.hsaId pattern', 'admission', (m) => (m.sender.hsaId = 'SE123-X'), 'sender.hsaId'],
    ['sender.name length', 'admission', (m) => (m.sender.name = 'x'.repeat(201)), 'sender.name'],
    ['recipients required', 'admission', (m) => delete m.recipients, 'recipients'],
    ['recipients at most 20', 'admission', (m) => (m.recipients = Array.from({ length: 21 }, (_, i) => ({ hsaId: `SE2120001637-K${i}`, role: 'primary-care' }))), 'recipients'],
    ['recipient role code', 'admission', (m) => (m.recipients[1].role = 'kommun'), 'recipients[1].role'],
    ['recipient hsaId required', 'admission', (m) => delete m.recipients[0].hsaId, 'recipients[0].hsaId'],
    ['recipient named twice', 'admission', (m) => (m.recipients[1].hsaId = m.recipients[0].hsaId), 'recipients[1].hsaId'],
    ['patient required', 'admission', (m) => delete m.patient, 'patient'],
    ['patient.idType code', 'admission', (m) => (m.patient.idType = 'pnr'), 'patient.idType'],
    ['personnummer 12 digits', 'admission', (m) => (m.patient.id = '4107086995'), 'patient.id'],
    ['personnummer Luhn', 'admission', (m) => (m.patient.id = '194107086994'), 'patient.id'],
    ['personnummer date exists', 'admission', (m) => (m.patient.id = withCheckDigit('19410231699')), 'patient.id'],
    ['born after sending', 'admission', (m) => (m.patient.id = withCheckDigit('20260329699')), 'patient.id'],
    ['personnummer birth number 000', 'admission', (m) => (m.patient.id = withCheckDigit('19410708000')), 'patient.id'],
    ['samordningsnummer birth number 000', 'admission', (m) => Object.assign(m.patient, { idType: 'samordningsnummer', id: withCheckDigit('19410768000') }), 'patient.id'],
    ['samordningsnummer day + 60', 'admission', (m) => Object.assign(m.patient, { idType: 'samordningsnummer', id: '194107086995' }), 'patient.id'],
    ['reservnummer pattern', 'admission', (m) => Object.assign(m.patient, { idType: 'reservnummer', id: 'res 1' }), 'patient.id'],
    ['givenName required without protection', 'admission', (m) => delete m.patient.givenName, 'patient.givenName'],
    ['familyName length', 'admission', (m) => (m.patient.familyName = 'Ö'.repeat(101)), 'patient.familyName'],
    ['protectedIdentity boolean', 'admission', (m) => (m.patient.protectedIdentity = 'false'), 'patient.protectedIdentity'],
    ['municipality four digits', 'admission', (m) => (m.patient.municipality = '148'), 'patient.municipality'],
    ['municipality county 02 does not exist', 'admission', (m) => (m.patient.municipality = '0280'), 'patient.municipality'],
    ['municipality county 11 does not exist', 'admission', (m) => (m.patient.municipality = '1180'), 'patient.municipality'],
    ['municipality county 26 does not exist', 'admission', (m) => (m.patient.municipality = '2680'), 'patient.municipality'],
    ['text without control characters', 'admission', (m) => (m.body.reason = 'Höft\tfraktur'), 'body.reason'],
    ['text without a lone surrogate', 'admission', (m) => (m.body.reason = 'Höft\uD800fraktur'), 'body.reason'],
    ['admittedAt required', 'admission', (m) => delete m.body.admittedAt, 'body.admittedAt'],
    ['assessedAt not before admittedAt', 'admission', (m) => (m.body.assessedAt = '2026-03-28T09:39:59Z'), 'body.assessedAt'],
    ['estimate not before the Swedish admission date', 'admission', (m) => Object.assign(m.body, { admittedAt: '2026-03-28T23:30:00Z', assessedAt: undefined, estimatedDischargeDate: '2026-03-28' }), 'body.estimatedDischargeDate'],
    ['estimatedDischargeDate exists', 'admission', (m) => (m.body.estimatedDischargeDate = '2026-04-31'), 'body.estimatedDischargeDate'],
    ['careType code', 'admission', (m) => (m.body.careType = 'surgical'), 'body.careType'],
    ['reason length 2000', 'admission', (m) => (m.body.reason = 'x'.repeat(2001)), 'body.reason'],
    // Only six codes exist, so a seventh entry also repeats one; the list's own problem is reported first.
    ['needs at most 6', 'admission', (m) => (m.body.needs = ['home-care', 'home-health-care', 'short-term-stay', 'special-housing', 'rehabilitation', 'assistive-devices', 'home-care']), 'body.needs'],
    ['needs distinct', 'admission', (m) => (m.body.needs = ['home-care', 'rehabilitation', 'home-care']), 'body.needs[2]'],
    ['need code', 'admission', (m) => (m.body.needs = ['home-care', 'gardening']), 'body.needs[1]'],
    ['discharge estimate date', 'discharge-estimate', (m) => (m.body.estimatedDischargeDate = '2026-4-6'), 'body.estimatedDischargeDate'],
    ['care contact phone', 'care-contact', (m) => (m.body.phone = 'tel 031 12 34'), 'body.phone'],
    ['care contact title length', 'care-contact', (m) => (m.body.title = 't'.repeat(101)), 'body.title'],
    ['care contact hsaId', 'care-contact', (m) => (m.body.hsaId = 'SE-1'), 'body.hsaId'],
    ['on-site SIP needs a location', 'sip-invitation', (m) => delete m.body.location, 'body.location'],
    ['SIP form code', 'sip-invitation', (m) => (m.body.form = 'teams'), 'body.form'],
    ['ready notice not for the deceased', 'ready-for-discharge', (m) => (m.body.destination = 'deceased'), 'body.destination'],
    ['destination code', 'discharged', (m) => (m.body.destination = 'away'), 'body.destination'],
    ['message text length 4000', 'message', (m) => (m.body.text = 'x'.repeat(4001)), 'body.text'],
    ['message subject required', 'message', (m) => delete m.body.subject, 'body.subject'],
    ['cancelled id pattern', 'cancellation', (m) => (m.body.cancelsMessageId = 'LC 1'), 'body.cancelsMessageId'],
    ['rejection needs a reason', 'acknowledgement', (m) => (m.body.status = 'rejected'), 'body.reason'],
    ['acknowledgement status code', 'acknowledgement', (m) => (m.body.status = 'ok'), 'body.status'],
  ];

  it.each(cases)('%s', (_name, type, change, expected) => {
    expect(paths(changed(type, change))).toEqual(typeof expected === 'string' ? [expected] : expected);
  });
});

describe('canonical validation: what is allowed', () => {
  it('accepts every contract example', () => {
    for (const type of ['admission', 'message', 'acknowledgement', 'ready-for-discharge'] as const) {
      expect(paths(exampleCanonical(type))).toEqual([]);
    }
  });
  it('lets a protected patient go without names', () => {
    expect(paths(changed('admission', (m) => {
      m.patient.protectedIdentity = true;
      delete m.patient.givenName;
      delete m.patient.familyName;
    }))).toEqual([]);
  });
  it('counts lengths in code points: 100 emoji make a valid given name', () => {
    expect(paths(changed('admission', (m) => (m.patient.givenName = '😀'.repeat(100))))).toEqual([]);
    expect(paths(changed('admission', (m) => (m.patient.givenName = '😀'.repeat(101))))).toEqual(['patient.givenName']);
  });
  it('keeps newlines in text', () => {
    const result = validateCanonical(changed('message', (m) => (m.body.text = 'a\nb')));
    expect(result.ok && result.value.body).toMatchObject({ text: 'a\nb' });
  });
  it('accepts the samordningsnummer example and a reservnummer', () => {
    expect(paths(exampleCanonical('ready-for-discharge'))).toEqual([]);
    expect(paths(changed('admission', (m) => Object.assign(m.patient, { idType: 'reservnummer', id: 'RES-77' })))).toEqual([]);
  });
  it('lets the estimate fall on the Swedish admission date', () => {
    expect(paths(changed('admission', (m) => Object.assign(m.body, { admittedAt: '2026-03-28T23:30:00Z', assessedAt: undefined, estimatedDischargeDate: '2026-03-29' })))).toEqual([]);
  });
  it('needs no location for a video SIP', () => {
    expect(paths(changed('sip-invitation', (m) => Object.assign(m.body, { form: 'video', location: undefined })))).toEqual([]);
  });
  it('removes unknown keys at every level', () => {
    const message = changed('admission', (m) => {
      m.extra = 1;
      m.patient.shoeSize = 42;
      m.body.ward = '12';
      m.sender.phone = '1';
    });
    const result = validateCanonical(message);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value).not.toHaveProperty('extra');
      expect(result.value.patient).not.toHaveProperty('shoeSize');
      expect(result.value.body).not.toHaveProperty('ward');
    }
  });
  it('ignores a patient in an acknowledgement', () => {
    const result = validateCanonical(changed('acknowledgement', (m) => (m.patient = { id: 'whatever' })));
    expect(result.ok && result.value).not.toHaveProperty('patient');
  });
  it('treats keys of another body as unknown and reports the missing ones', () => {
    expect(paths(changed('discharged', (m) => (m.body = { readyAt: '2026-04-06T09:05:00Z', destination: 'home' })))).toEqual(['body.dischargedAt']);
  });
  it('reports every problem at once, in the order of the message', () => {
    const message = changed('admission', (m) => {
      m.body.careType = 'x';
      m.patient.id = '194107086994';
      m.messageId = '';
      m.recipients[0].role = 'y';
    });
    delete message.messageId;
    expect(paths(message)).toEqual(['messageId', 'recipients[0].role', 'patient.id', 'body.careType']);
  });
  it('says why, in words naming the allowed codes', () => {
    const result = validateCanonical(changed('admission', (m) => (m.body.careType = 'surgical')));
    expect(!result.ok && result.problems[0]!.message).toBe('unknown code "surgical" (allowed: somatic, psychiatric, forensic-psychiatric)');
  });
});
