import { withoutPersonalData } from './strip';

describe('withoutPersonalData', () => {
  const message = {
    messageId: 'M-1',
    type: 'message',
    episodeId: 'EP-1',
    sentAt: '2026-01-01T10:00:00Z',
    sender: { hsaId: 'SE2321000131-E000000000001', name: 'Medicinavdelning 12' },
    patient: { idType: 'personnummer', id: '191212121212', givenName: 'Tolvan', familyName: 'Tolvansson', municipality: '1480', protectedIdentity: true },
    body: { subject: 'Om Tolvan', text: 'Tolvan behöver hjälp', reason: 'Höftfraktur', needs: [{ code: 'HEMTJ', note: 'kvällar' }], admittedAt: '2026-01-01T08:00:00Z' },
  };

  it('keeps the envelope, the municipality and the dates, and drops identity, names and free text at any depth', () => {
    const out = withoutPersonalData(message);
    expect(out).toEqual({
      messageId: 'M-1',
      type: 'message',
      episodeId: 'EP-1',
      sentAt: '2026-01-01T10:00:00Z',
      sender: { hsaId: 'SE2321000131-E000000000001', name: 'Medicinavdelning 12' },
      patient: { idType: 'personnummer', municipality: '1480', protectedIdentity: true },
      body: { needs: [{ code: 'HEMTJ' }], admittedAt: '2026-01-01T08:00:00Z' },
    });
    expect(JSON.stringify(out)).not.toMatch(/191212121212|Tolvan|Höftfraktur/);
  });

  it('leaves the input unchanged', () => {
    const copy = structuredClone(message);
    withoutPersonalData(message);
    expect(message).toEqual(copy);
  });
});
