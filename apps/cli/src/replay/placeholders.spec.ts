import { fillPlaceholderBytes, fillPlaceholders, restorePlaceholderBytes, restorePlaceholders } from './placeholders';
import { describeDifference, semanticDiff } from './semantic-diff';

const values = { run: 'ab12cd34', startMs: Date.UTC(2026, 2, 29, 0, 30) }; // 01:30 CET, just before summer time

describe('fixture placeholders', () => {
  it('writes run ids, instants and dates as each dialect writes them', () => {
    const text = 'id {{run}} at {{time}} in {{time+PT1H}} back {{time-P1D}} on {{date+P5D}}';
    expect(fillPlaceholders(text, 'canonical', values)).toBe('id ab12cd34 at 2026-03-29T00:30:00Z in 2026-03-29T01:30:00Z back 2026-03-28T00:30:00Z on 2026-04-03');
    expect(fillPlaceholders(text, 'lifecare', values)).toBe('id ab12cd34 at 2026-03-29T01:30:00+01:00 in 2026-03-29T03:30:00+02:00 back 2026-03-28T01:30:00+01:00 on 2026-04-03');
    expect(fillPlaceholders(text, 'webcare', values)).toBe('id ab12cd34 at 202603290130 in 202603290330 back 202603280130 on 20260403');
  });
  it('puts placeholders back into a received text (for --record)', () => {
    const template = '<ID>X-{{run}}</ID><TS>{{time}}</TS><D>{{date+P5D}}</D>';
    const received = fillPlaceholders(template, 'webcare', values).replace('<D>', '<E>x</E><D>');
    expect(restorePlaceholders(received, template, 'webcare', values)).toBe('<ID>X-{{run}}</ID><TS>{{time}}</TS><E>x</E><D>{{date+P5D}}</D>');
  });
  it('fills in a file\'s bytes and leaves every other byte as it is, in any encoding and even where no reader reads it', () => {
    const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'ascii') : Buffer.from(p))));
    // Windows-1252 € and an undefined byte in webcare; UTF-8 ł, and a lone latin-1 å that is not UTF-8, in lifecare.
    const webcare = bytes('<ID>{{run}}</ID><T>', [0x80, 0x81, 0xe5], '</T><TS>{{time}}</TS>');
    expect(fillPlaceholderBytes(webcare, 'webcare', values)).toEqual(bytes('<ID>ab12cd34</ID><T>', [0x80, 0x81, 0xe5], '</T><TS>202603290130</TS>'));
    const lifecare = bytes('<Id>{{run}}</Id><T>', [0xc5, 0x82, 0xe5], '</T>');
    expect(fillPlaceholderBytes(lifecare, 'lifecare', values)).toEqual(bytes('<Id>ab12cd34</Id><T>', [0xc5, 0x82, 0xe5], '</T>'));
    expect(restorePlaceholderBytes(fillPlaceholderBytes(webcare, 'webcare', values), webcare, 'webcare', values)).toEqual(webcare);
  });
});

describe('semantic diff', () => {
  it('lists differences field by field with canonical paths', () => {
    const a = { body: { estimatedDischargeDate: '2026-04-02', needs: ['home-care'] }, recipients: [{ hsaId: 'A' }] };
    const b = { body: { estimatedDischargeDate: '2026-04-03', needs: ['home-care', 'rehabilitation'] }, recipients: [{ hsaId: 'A' }] };
    expect(semanticDiff(a, b).map(describeDifference)).toEqual([
      'body.estimatedDischargeDate: expected 2026-04-02, got 2026-04-03',
      'body.needs[1]: expected (absent), got rehabilitation',
    ]);
    expect(semanticDiff(a, structuredClone(a))).toEqual([]);
  });
});
