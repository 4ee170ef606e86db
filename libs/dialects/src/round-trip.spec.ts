import fc from 'fast-check';
import { formatProblem, validateCanonical, type CanonicalMessage } from '@svu/canonical';
import { canonicalMessage } from '../../../test/fixtures/arbitraries';
import { BODY_LAYOUT } from './shared/body-fields';
import { readMessage, writeMessage } from './translate';

const stockholm = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Stockholm',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * What webcare keeps of an instant (contract section 7), computed independently with Intl: seconds
 * dropped, and a time in the second occurrence of the repeated autumn hour comes back an hour earlier.
 */
function webcareKeeps(instant: string): string {
  const minute = Math.floor(Date.parse(instant) / 60_000) * 60_000;
  const hourEarlier = minute - 3_600_000;
  const repeated = stockholm.format(new Date(hourEarlier)) === stockholm.format(new Date(minute));
  return new Date(repeated ? hourEarlier : minute).toISOString().slice(0, 19) + 'Z';
}

function expectedAfterWebcare(message: CanonicalMessage): CanonicalMessage {
  const copy = structuredClone(message) as unknown as Record<string, any>;
  copy['sentAt'] = webcareKeeps(copy['sentAt']);
  for (const field of BODY_LAYOUT[message.type].fields) {
    if (field.kind === 'instant' && copy['body'][field.key] !== undefined) copy['body'][field.key] = webcareKeeps(copy['body'][field.key]);
  }
  return copy as unknown as CanonicalMessage;
}

describe('round trips of random valid messages', () => {
  it('generates valid messages (the generator itself is checked)', () => {
    fc.assert(
      fc.property(canonicalMessage, (message) => {
        const result = validateCanonical(structuredClone(message));
        if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
      }),
      { numRuns: 300 },
    );
  });

  it.each(['lifecare', 'samsa', 'canonical'] as const)('canonical → %s → canonical gives the same message', (dialect) => {
    fc.assert(
      fc.property(canonicalMessage, (message) => {
        const back = readMessage(dialect, writeMessage(dialect, message));
        if (!back.ok) throw new Error(back.problems.map(formatProblem).join('\n'));
        expect(back.value).toEqual(message);
      }),
      { numRuns: 300 },
    );
  });

  it('canonical → webcare → canonical gives the same message but for what webcare cannot hold', () => {
    fc.assert(
      fc.property(canonicalMessage, (message) => {
        const back = readMessage('webcare', writeMessage('webcare', message));
        if (!back.ok) throw new Error(back.problems.map(formatProblem).join('\n'));
        expect(back.value).toEqual(expectedAfterWebcare(message));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the earlier instant for every time in the repeated autumn hour through webcare', () => {
    const autumn = fc.integer({ min: Date.UTC(2026, 9, 25, 0, 0) / 1000, max: Date.UTC(2026, 9, 25, 2, 0) / 1000 });
    fc.assert(
      fc.property(canonicalMessage, autumn, (message, seconds) => {
        const m = structuredClone(message) as unknown as Record<string, any>;
        m['type'] = 'discharged';
        m['body'] = { dischargedAt: new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z', destination: 'home' };
        if (m['patient'] === undefined) m['patient'] = { idType: 'reservnummer', id: 'R1', protectedIdentity: true, municipality: '1480' };
        const back = readMessage('webcare', writeMessage('webcare', m as CanonicalMessage));
        expect(back.ok && back.value.body).toEqual(expectedAfterWebcare(m as CanonicalMessage).body);
      }),
      { numRuns: 200 },
    );
  });

  it.each(['lifecare', 'webcare', 'samsa'] as const)('%s → canonical → the same dialect gives the same message', (dialect) => {
    fc.assert(
      fc.property(canonicalMessage, (message) => {
        const wire = writeMessage(dialect, message);
        const first = readMessage(dialect, wire);
        expect(first.ok).toBe(true);
        if (!first.ok) return;
        const again = readMessage(dialect, writeMessage(dialect, first.value));
        expect(again.ok && again.value).toEqual(first.value);
      }),
      { numRuns: 200 },
    );
  });
});
