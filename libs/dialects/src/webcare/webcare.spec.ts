import { withCheckDigit } from '@svu/identity';
import { exampleBytes, exampleCanonical } from '../../../../test/fixtures/contract-examples';
import { problemLines, problemPaths, readValid } from '../../../../test/fixtures/read-helpers';
import { MAX_MESSAGE_BYTES } from '../shared/document';
import { readMessage, writeMessage } from '../translate';

const latin1 = (type: Parameters<typeof exampleBytes>[0]) => exampleBytes(type, 'webcare').toString('latin1');
const admission = latin1('admission');

describe('webcare encoding', () => {
  it('writes a Sami name and an emoji as decimal character references and reads them back', () => {
    const message = exampleCanonical('admission');
    message.patient!.givenName = 'Áilu Đŋŧž 😀';
    message.body.reason = 'Fall – “höft” €5';
    const bytes = writeMessage('webcare', message);
    const text = bytes.toString('latin1');
    expect(text).toContain('<FNAMN>Áilu &#272;&#331;&#359;&#382; &#128512;</FNAMN>');
    expect(text).toContain('&#8211;');
    expect([...bytes].some((b) => b >= 0x80 && b <= 0x9f)).toBe(false);
    expect(readValid('webcare', bytes)).toEqual(message);
  });

  it('reads bytes 0x80–0x9F as Windows-1252', () => {
    const bytes = Buffer.from(admission.replace('Höftfraktur', 'Höft\u0080fraktur \u0096 x\u0092s'), 'latin1');
    expect(readValid('webcare', bytes).body).toMatchObject({ reason: 'Höft€fraktur – x’s' });
  });

  it('refuses bytes that are no character in Windows-1252', () => {
    const bytes = Buffer.from(admission.replace('Höftfraktur', 'Höft\u0081'), 'latin1');
    expect(problemPaths('webcare', bytes)).toEqual(['message']);
  });

  it('resolves hexadecimal character references', () => {
    expect(readValid('webcare', admission.replace('Karin', '&#x110;&#xF6;'), 'latin1').patient).toMatchObject({ givenName: 'Đö' });
  });

  it('reads a document that declares UTF-8 as UTF-8', () => {
    const utf8 = admission.replace('ISO-8859-1', 'UTF-8');
    expect(readValid('webcare', Buffer.from(utf8, 'utf8'))).toEqual(exampleCanonical('admission'));
  });
});

describe('webcare times', () => {
  it('drops seconds when writing (truncating)', () => {
    const message = exampleCanonical('discharged');
    message.body.dischargedAt = '2026-04-06T09:05:59Z';
    expect(writeMessage('webcare', message).toString('latin1')).toContain('<UTSKR>202604061105</UTSKR>');
  });

  it('reads the repeated autumn hour as the earlier (summer-time) instant', () => {
    const doc = latin1('discharged').replace('202604061105', '202610250230');
    expect(readValid('webcare', doc, 'latin1').body).toMatchObject({ dischargedAt: '2026-10-25T00:30:00Z' });
  });

  it('moves a time in the spring gap forward by the gap', () => {
    const doc = latin1('discharged').replace('202604061105', '202603290230');
    expect(readValid('webcare', doc, 'latin1').body).toMatchObject({ dischargedAt: '2026-03-29T01:30:00Z' });
  });

  it('writes the second autumn 02:30 as the same wall-clock time (webcare cannot tell them apart)', () => {
    const message = exampleCanonical('discharged');
    message.body.dischargedAt = '2026-10-25T01:30:00Z';
    const back = readValid('webcare', writeMessage('webcare', message));
    expect(back.body).toMatchObject({ dischargedAt: '2026-10-25T00:30:00Z' });
  });

  it('refuses times and dates that do not exist', () => {
    expect(problemPaths('webcare', admission.replace('202603281040', '202602291040'), 'latin1')).toEqual(['body.admittedAt']);
    expect(problemPaths('webcare', admission.replace('20260403', '20260431'), 'latin1')).toEqual(['body.estimatedDischargeDate']);
    // The century of the ten-digit personnummer depends on the year of sending, so it cannot be read either.
    expect(problemPaths('webcare', admission.replace('202603281405', '2026-03-28 14:05'), 'latin1')).toEqual(['sentAt', 'patient.id']);
  });
});

describe('webcare identities', () => {
  const withId = (id: string, sent = '202603281405') =>
    admission.replace('<PNR>410708-6995</PNR>', `<PNR>${id}</PNR>`).replace('<TS>202603281405</TS>', `<TS>${sent}</TS>`);

  it('uses + from the year the patient turns 100', () => {
    const id = withCheckDigit('19260501123');
    const message = exampleCanonical('admission');
    message.patient!.id = id;
    expect(writeMessage('webcare', message).toString('latin1')).toContain(`<PNR>260501+${id.slice(8)}</PNR>`);
    message.sentAt = '2025-12-31T22:59:00Z'; // still 2025 in Sweden
    message.body.admittedAt = '2025-12-31T20:00:00Z';
    delete message.body.assessedAt;
    message.body.estimatedDischargeDate = '2026-01-05';
    expect(writeMessage('webcare', message).toString('latin1')).toContain(`<PNR>260501-${id.slice(8)}</PNR>`);
  });

  it('finds the century from the separator and the Swedish year of sending', () => {
    const id = withCheckDigit('19260501123');
    expect(readValid('webcare', withId(`260501+${id.slice(8)}`), 'latin1').patient).toMatchObject({ id });
    // With "-" in 2026, 26 means 2026: a birth date after sending.
    expect(problemLines('webcare', withId(`260501-${id.slice(8)}`), 'latin1')).toEqual([
      'patient.id: birth date 2026-05-01 lies after the message was sent',
    ]);
  });

  it('refuses a malformed ten-digit number', () => {
    expect(problemPaths('webcare', withId('19410708-6995'), 'latin1')).toEqual(['patient.id']);
  });

  it('reads SNR and RES elements', () => {
    expect(readValid('webcare', latin1('ready-for-discharge'), 'latin1').patient).toMatchObject({ idType: 'samordningsnummer', id: '195211642383' });
    const res = admission.replace('<PNR>410708-6995</PNR>', '<RES>RES-4711</RES>');
    expect(readValid('webcare', res, 'latin1').patient).toMatchObject({ idType: 'reservnummer', id: 'RES-4711' });
  });
});

describe('webcare structure', () => {
  it('accepts spaces around the commas of BEHOV and reports an unknown code by position', () => {
    expect(readValid('webcare', admission.replace('HT,HSV,SÄBO', ' HT , HSV ,SÄBO '), 'latin1').body).toMatchObject({
      needs: ['home-care', 'home-health-care', 'special-housing'],
    });
    expect(problemLines('webcare', admission.replace('HT,HSV,SÄBO', 'HT,XX'), 'latin1')).toEqual(['body.needs[1]: unknown code "XX"']);
  });

  it('refuses another root, another version and SKYDD other than J or N', () => {
    expect(problemPaths('webcare', admission.replace(/WCMsg/g, 'Msg'), 'latin1')).toEqual(['message']);
    expect(problemPaths('webcare', admission.replace('ver="4"', 'ver="3"'), 'latin1')).toEqual(['message']);
    expect(problemPaths('webcare', admission.replace('<SKYDD>N', '<SKYDD>X'), 'latin1')).toEqual(['patient.protectedIdentity']);
  });

  it('accepts exactly 262,144 bytes and refuses one byte more', () => {
    const base = Buffer.from(admission, 'latin1');
    const padded = (size: number) => Buffer.concat([base, Buffer.alloc(size - base.length, 0x20)]);
    expect(readMessage('webcare', padded(MAX_MESSAGE_BYTES)).ok).toBe(true);
    expect(problemLines('webcare', padded(MAX_MESSAGE_BYTES + 1))).toEqual([
      'message: is 262145 bytes, more than the limit of 262144',
    ]);
  });
});
