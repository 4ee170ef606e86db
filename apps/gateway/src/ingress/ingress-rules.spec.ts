import type { CanonicalMessage } from '@svu/canonical';
import { exampleFor } from '../../../../test/support/messages';
import {
  acknowledgementDetail,
  actsOnEarlier,
  changesNothingStored,
  copiesToCreate,
  dayZeroOf,
  judgeAcknowledgement,
  judgeCancellation,
  keyOf,
  planBatch,
  withheldKey,
  withheldRecipients,
} from './ingress-rules';

type Of<T extends CanonicalMessage['type']> = Extract<CanonicalMessage, { type: T }>;

const admissionDue = (notifyBy: string): Of<'admission'> => {
  const m = exampleFor('admission', ['U1', 'U2']) as Of<'admission'>;
  const at = new Date(Date.parse(notifyBy) - 24 * 3_600_000).toISOString().slice(0, 19) + 'Z';
  return { ...m, body: { ...m.body, admittedAt: at, assessedAt: at } };
};

describe('rule 1: one copy per recipient of each message, once per sender system and message id', () => {
  it('creates a copy per recipient, in the order of the batch and of the recipients', () => {
    const a = exampleFor('message', ['U1', 'U2']);
    const b = exampleFor('message', ['U3']);
    const batch = [{ senderSystem: 's1', message: a }, { senderSystem: 's1', message: b }];
    expect(copiesToCreate(batch, planBatch(batch, new Date())).map((c) => `${c.messageId === a.messageId ? 'a' : 'b'} ${c.recipientHsa} ${c.withheld}`)).toEqual([
      'a U1 false',
      'a U2 false',
      'b U3 false',
    ]);
  });

  it('gives a message sent twice in one batch copies once; the same id from another sender system is another message', () => {
    const a = exampleFor('message', ['U1']);
    const batch = [
      { senderSystem: 's1', message: a },
      { senderSystem: 's1', message: a },
      { senderSystem: 's2', message: a },
    ];
    const plan = planBatch(batch, new Date());
    expect(plan.first).toEqual([true, false, true]);
    expect(copiesToCreate(batch, plan).map((c) => c.senderSystem)).toEqual(['s1', 's2']);
  });
});

describe('rule 2: late on arrival', () => {
  it('an admission arriving past its notifyBy is late; one before it, or another type, is not', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    const batch = [
      { senderSystem: 's', message: admissionDue('2026-03-10T11:00:00Z') },
      { senderSystem: 's', message: admissionDue('2026-03-10T13:00:00Z') },
      { senderSystem: 's', message: exampleFor('message', ['U1']) },
    ];
    const plan = planBatch(batch, now);
    expect(plan.late).toEqual([true, false, false]);
    expect(plan.deadlines).toEqual(['2026-03-10T11:00:00Z', '2026-03-10T13:00:00Z', null]);
    expect(changesNothingStored(batch, plan, true)).toBe(false);
    expect(changesNothingStored(batch.slice(1), planBatch(batch.slice(1), now), true)).toBe(true);
  });
});

describe('which batches change nothing stored before', () => {
  it.each([
    ['cancellation', true],
    ['acknowledgement', true],
    ['ready-for-discharge', true],
    ['message', false],
    ['discharge-estimate', false],
  ] as const)('%s acts on what was stored before: %s', (type, acts) => {
    expect(actsOnEarlier(type)).toBe(acts);
    const batch = [{ senderSystem: 's', message: exampleFor(type, ['U1']) }];
    expect(changesNothingStored(batch, planBatch(batch, new Date(0)), true)).toBe(!acts);
  });

  it('a batch with an invalid or refused message is not stored alone', () => {
    const batch = [{ senderSystem: 's', message: exampleFor('message', ['U1']) }];
    expect(changesNothingStored(batch, planBatch(batch, new Date(0)), false)).toBe(false);
  });
});

describe('rule 4: day 0', () => {
  it('a ready-for-discharge notice records day 0 as the Swedish date it was sent, any hour', () => {
    const m = { ...exampleFor('ready-for-discharge', ['U1']), sentAt: '2026-03-10T23:30:00Z' };
    expect(dayZeroOf(m)).toEqual({ episodeId: m.episodeId, messageId: m.messageId, dayZero: '2026-03-11', sentAt: '2026-03-10T23:30:00Z' });
    expect(dayZeroOf(exampleFor('message', ['U1']))).toBeUndefined();
  });
});

describe('rule 5: cancellations', () => {
  const cancellation = (episodeId: string) => {
    const m = exampleFor('cancellation', ['U1', 'U2'], { episodeId }) as Of<'cancellation'>;
    return { ...m, body: { ...m.body, cancelsMessageId: 'M-1' } } as Of<'cancellation'>;
  };

  it('the original sender system may cancel its message in the same episode', () => {
    expect(judgeCancellation('s1', cancellation('E1'), [{ senderSystem: 's1', episodeId: 'E1' }])).toBeUndefined();
    expect(judgeCancellation('s1', cancellation('E1'), [{ senderSystem: 's2', episodeId: 'E1' }, { senderSystem: 's1', episodeId: 'E1' }])).toBeUndefined();
  });

  it.each([
    ['another sender system', [{ senderSystem: 's2', episodeId: 'E1' }]],
    ['another episode', [{ senderSystem: 's1', episodeId: 'E2' }]],
    ['no message with that id', []],
  ])('is refused alike for a message of %s', (_what, named) => {
    expect(judgeCancellation('s1', cancellation('E1'), named)).toEqual({ reason: 'cancellation-not-owner', detail: 'no message M-1 of sender system s1 in episode E1' });
  });

  it('is withheld from recipients that never got the message, not from those who got it by fax or letter', () => {
    expect([...withheldRecipients(['U1'], ['U2', 'U3'], ['U3'])].sort()).toEqual(['U1', 'U2']);
    expect([...withheldRecipients([], [], ['U1'])]).toEqual([]);
  });

  it('its copies to withheld recipients are created withheld', () => {
    const c = cancellation('E1');
    const batch = [{ senderSystem: 's1', message: c }];
    const copies = copiesToCreate(batch, planBatch(batch, new Date()), new Set([withheldKey(keyOf('s1', c), 'U2')]));
    expect(copies.map((x) => `${x.recipientHsa} ${x.withheld}`)).toEqual(['U1 false', 'U2 true']);
  });
});

describe('rule 6: acknowledgements', () => {
  const ack = (status: 'received' | 'rejected'): Of<'acknowledgement'> => {
    const m = exampleFor('acknowledgement', ['U9']) as Of<'acknowledgement'>;
    return { ...m, sender: { ...m.sender, hsaId: 'U1' }, body: { acknowledgesMessageId: 'M-1', status, ...(status === 'rejected' ? { reason: 'Fel mottagare' } : {}) } };
  };

  it('marks the copy; a receipt records nothing else', () => {
    expect(judgeAcknowledgement(ack('received'), ['7'])).toEqual({});
    expect(acknowledgementDetail(ack('received'))).toBe('received');
  });

  it('a rejection is a deviation on the acknowledged copy', () => {
    expect(judgeAcknowledgement(ack('rejected'), ['7', '8'])).toEqual({ rejection: { messageId: 'M-1', copyId: '7', unitHsa: 'U1', detail: 'Fel mottagare' } });
    expect(acknowledgementDetail(ack('rejected'))).toBe('rejected: Fel mottagare');
  });

  it('is refused when no copy of the message was sent to the acknowledging unit in its episode', () => {
    expect(judgeAcknowledgement(ack('received'), [])).toEqual({
      refusal: { reason: 'acknowledgement-not-addressed', detail: 'no copy of message M-1 was sent to U1' },
    });
  });
});
