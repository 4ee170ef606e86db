import { HIDDEN_NAME, HIDDEN_TEXT, maskForViewer, viewerProbeRefusal } from './masking';

describe('maskForViewer', () => {
  it('masks identity-number-shaped runs in every string, ids and problem texts included, and keeps the rest', () => {
    const answer = {
      messageId: 'MSG-19410708-6994',
      items: [{ problems: [{ path: 'patient.id', message: 'check digit is wrong in 194107086995' }], recipientHsa: 'SE2321000131-E000000000001' }],
      count: 194107086995,
      at: new Date('2026-03-28T13:10:00Z'),
      when: '2026-03-28T13:10:00.000Z',
    };
    const masked = maskForViewer(answer);
    expect(masked.messageId).toBe('MSG-********-****');
    expect(masked.items[0]!.problems[0]!.message).toBe('check digit is wrong in ************');
    expect(masked.items[0]!.recipientHsa).toBe('SE2321000131-E000000000001');
    expect(masked.count).toBe(194107086995);
    expect(masked.at).toBe(answer.at);
    expect(masked.when).toBe(answer.when);
    expect(answer.messageId).toBe('MSG-19410708-6994');
  });

  it('hides name fields anywhere, and the given names wherever they stand in a text', () => {
    const masked = maskForViewer({ patient: { givenName: 'Karin', familyName: 'Öberg' }, lastError: 'HTTP 400: patient ÖBERG, karin unknown' }, ['Karin', 'Öberg']);
    expect(masked).toEqual({ patient: { givenName: HIDDEN_NAME, familyName: HIDDEN_NAME }, lastError: `HTTP 400: patient ${HIDDEN_NAME}, ${HIDDEN_NAME} unknown` });
  });

  it('masks a plain string answer (CSV) and leaves a non-plain object (a file) alone', () => {
    expect(maskForViewer('a;19410708-6994\n')).toBe('a;********-****\n');
    const file = Buffer.from('194107086995');
    expect(maskForViewer(file)).toBe(file);
  });
});

describe('maskForViewer: names in texts', () => {
  it('hides a name only as a whole word', () => {
    expect(maskForViewer({ text: 'Ola ringde; Olander och kolan inte' }, ['Ola'])).toEqual({ text: `${HIDDEN_NAME} ringde; Olander och kolan inte` });
  });
});

describe('maskForViewer: operators’ free text', () => {
  it('hides a discard reason, a resolution and a note whole (they may name the patient of an invalid message), and keeps reason codes', () => {
    const masked = maskForViewer({
      reason: 'invalid-message',
      resolutionDetail: 'Greta Garboson called: sent by phone',
      audit: [
        { action: 'discard', detail: { reason: 'Greta Garboson called: sent by phone' } },
        { action: 'region-caused', detail: { note: 'Väntade på läkare' } },
        // A one-word note looks like a code, but a note is never one: it may be a name.
        { action: 'placing-municipality', detail: { note: 'karin-oberg' } },
      ],
      deadLetters: [{ reason: 'sender-not-allowed' }, { reason: 'unknown-recipient' }],
    });
    expect(masked).toEqual({
      reason: 'invalid-message',
      resolutionDetail: HIDDEN_TEXT,
      audit: [
        { action: 'discard', detail: { reason: HIDDEN_TEXT } },
        { action: 'region-caused', detail: { note: HIDDEN_TEXT } },
        { action: 'placing-municipality', detail: { note: HIDDEN_TEXT } },
      ],
      deadLetters: [{ reason: 'sender-not-allowed' }, { reason: 'unknown-recipient' }],
    });
  });
});

describe('viewerProbeRefusal', () => {
  it('refuses a viewer a text holding an identity number, naming the field; lets operators and plain texts through', () => {
    expect(viewerProbeRefusal('viewer', 'q', 'ID-194107086995-x', 'search by an identity number')).toBe('q: viewers may not search by an identity number');
    expect(viewerProbeRefusal(undefined, 'q', '19410708-6995', 'search by an identity number')).toBe('q: viewers may not search by an identity number');
    expect(viewerProbeRefusal('operator', 'q', '19410708-6995', 'search by an identity number')).toBeUndefined();
    expect(viewerProbeRefusal('viewer', 'q', 'EP-2026-17', 'search by an identity number')).toBeUndefined();
    expect(viewerProbeRefusal('viewer', 'q', undefined, 'search by an identity number')).toBeUndefined();
  });
});
