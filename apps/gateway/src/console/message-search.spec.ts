import { createHash } from 'node:crypto';
import { patientIdHash, searchKeyOf, swedishYear } from './message-search';

describe('searchKeyOf', () => {
  it('takes a message or episode id as typed (trimmed), not as an identity number', () => {
    expect(searchKeyOf('  MSG-2026-0001 ', 2026)).toEqual({ id: 'MSG-2026-0001', identityShaped: false });
    expect(searchKeyOf('EP-abc', 2026)).toEqual({ id: 'EP-abc', identityShaped: false });
  });

  it('reads every written form of an identity number to its canonical 12 digits', () => {
    for (const form of ['194107086995', '19410708-6995', '410708-6995', '4107086995', '19410708 6995', '410708 6995']) {
      expect({ form, key: searchKeyOf(form, 2026) }).toEqual({ form, key: { id: form, identity: '194107086995', identityShaped: true } });
    }
  });

  it('reads a ten-digit number with + as a hundred years earlier, against the year given', () => {
    expect(searchKeyOf('260501+1234', 2026).identity).toBe('192605011234');
    expect(searchKeyOf('260501-1234', 2026).identity).toBe('202605011234');
    expect(searchKeyOf('260501-1234', 2025).identity).toBe('192605011234');
  });

  it('marks an identity-shaped text inside a longer id, without an identity to search by', () => {
    expect(searchKeyOf('MSG-194107086995', 2026)).toEqual({ id: 'MSG-194107086995', identityShaped: true });
  });
});

describe('patientIdHash', () => {
  it('is the SHA-256 of the canonical number, as the store computes it', () => {
    expect(patientIdHash('194107086995').toString('hex')).toBe(createHash('sha256').update('194107086995').digest('hex'));
    expect(patientIdHash('194107086995').toString('hex')).toBe('5a26cac9dfbca09fc31192dc092c5641d587d5a69ae3175667318a955c3558e2');
  });
});

describe('swedishYear', () => {
  it('is the year in Stockholm (new year comes an hour before UTC)', () => {
    expect(swedishYear(new Date('2026-12-31T23:30:00Z'))).toBe(2027);
    expect(swedishYear(new Date('2026-12-31T22:30:00Z'))).toBe(2026);
  });
});
