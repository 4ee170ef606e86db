import { toSwedishOffsetDateTime } from '@svu/swedish-time';
import { dayZero, notifyBy } from './deadlines';

describe('notifyBy: 24 elapsed hours after the later of admission and assessment', () => {
  it('counts elapsed hours across the spring change (the wall clock moves an hour further)', () => {
    const deadline = notifyBy({ admittedAt: '2026-03-28T12:00:00Z', careType: 'somatic', reason: 'x' });
    expect(deadline).toBe('2026-03-29T12:00:00Z');
    expect(toSwedishOffsetDateTime('2026-03-28T12:00:00Z')).toBe('2026-03-28T13:00:00+01:00');
    expect(toSwedishOffsetDateTime(deadline)).toBe('2026-03-29T14:00:00+02:00');
  });
  it('counts elapsed hours across the autumn change (the wall clock moves an hour less)', () => {
    const deadline = notifyBy({ admittedAt: '2026-10-24T12:00:00Z', careType: 'somatic', reason: 'x' });
    expect(deadline).toBe('2026-10-25T12:00:00Z');
    expect(toSwedishOffsetDateTime(deadline)).toBe('2026-10-25T13:00:00+01:00');
  });
  it('starts from the assessment when it is later than the admission', () => {
    expect(notifyBy({ admittedAt: '2026-03-28T09:40:00Z', assessedAt: '2026-03-28T11:15:00Z', careType: 'somatic', reason: 'x' })).toBe('2026-03-29T11:15:00Z');
  });
});

describe('day 0: the Swedish date of sending, whatever the hour', () => {
  it.each([
    ['2026-07-01T21:59:59Z', '2026-07-01'],
    ['2026-07-01T22:00:00Z', '2026-07-02'],
    ['2026-01-15T22:59:00Z', '2026-01-15'],
    ['2026-01-15T23:00:00Z', '2026-01-16'],
    ['2026-10-25T00:30:00Z', '2026-10-25'],
  ])('sent %s is day 0 %s', (sentAt, expected) => expect(dayZero({ sentAt })).toBe(expected));
});
