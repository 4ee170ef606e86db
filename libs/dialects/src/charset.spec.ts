import { exampleBytes, exampleCanonical } from '../../../test/fixtures/contract-examples';
import { readValid } from '../../../test/fixtures/read-helpers';
import { decodeDocument, documentCharset, encodeDocument, showDocument } from './charset';

const admission = decodeDocument('webcare', exampleBytes('admission', 'webcare'))!;
/** The admission example with the patient's given name (Karin) replaced. */
const named = (name: string) => admission.replace('<FNAMN>Karin</FNAMN>', `<FNAMN>${name}</FNAMN>`);

describe('webcare text and bytes (docs/contract.md section 5)', () => {
  it('decodes bytes 0x80 and 0x92 as Windows-1252 € and ’, and ISO-8859-1 å ä ö Á as themselves', () => {
    const bytes = Buffer.from([...Buffer.from('<A>'), 0x80, 0x92, 0xe5, 0xe4, 0xf6, 0xc1, ...Buffer.from('</A>')]);
    expect(decodeDocument('webcare', bytes)).toBe('<A>€’åäöÁ</A>');
    expect(showDocument('webcare', bytes)).toBe('<A>€’åäöÁ</A>');
  });

  it('encodes € ’ and characters outside ISO-8859-1 (ŋ, ł) as character references, å ä ö á as single bytes', () => {
    const bytes = encodeDocument('webcare', '<A>€’åäöáŋł</A>');
    expect(bytes).toEqual(Buffer.from([...Buffer.from('<A>&#8364;&#8217;'), 0xe5, 0xe4, 0xf6, 0xe1, ...Buffer.from('&#331;&#322;</A>')]));
  });

  it('round-trips: what is encoded reads back as the same characters', () => {
    const bytes = encodeDocument('webcare', named('€ ’ åäö Áilu ŋ Łucja ł'));
    expect(readValid('webcare', bytes).patient).toMatchObject({ givenName: '€ ’ åäö Áilu ŋ Łucja ł' });
    // Bytes the gateway writes come back unchanged through decode and encode.
    const written = encodeDocument('webcare', named('Łucja'));
    expect(encodeDocument('webcare', decodeDocument('webcare', written)!)).toEqual(written);
  });

  it('keeps a document that declares UTF-8 in UTF-8, both ways', () => {
    const text = named('€ ł å').replace('encoding="ISO-8859-1"', 'encoding="UTF-8"');
    const bytes = encodeDocument('webcare', text);
    expect(documentCharset('webcare', bytes)).toBe('utf-8');
    expect(documentCharset('webcare', encodeDocument('webcare', named('å')))).toBe('iso-8859-1');
    expect(documentCharset('lifecare', Buffer.from('<x/>'))).toBe('utf-8');
    expect(bytes).toEqual(Buffer.from(text, 'utf8'));
    expect(decodeDocument('webcare', bytes)).toBe(text);
    expect(readValid('webcare', bytes).patient).toMatchObject({ givenName: '€ ł å' });
  });

  it('refuses to decode bytes Windows-1252 leaves undefined, and shows them as U+FFFD', () => {
    const bytes = Buffer.from([...Buffer.from('<A>'), 0x81, 0xe5, ...Buffer.from('</A>')]);
    expect(decodeDocument('webcare', bytes)).toBeUndefined();
    expect(showDocument('webcare', bytes)).toBe('<A>\uFFFDå</A>');
  });
});

describe('UTF-8 forms', () => {
  it('decode and encode UTF-8, and show bytes that are not UTF-8 as U+FFFD', () => {
    const canonical = JSON.stringify(exampleCanonical('admission')).replace('Karin', '€ ł ŋ å');
    expect(encodeDocument('samsa', canonical)).toEqual(Buffer.from(canonical, 'utf8'));
    expect(decodeDocument('lifecare', Buffer.from(canonical, 'utf8'))).toBe(canonical);
    expect(decodeDocument('canonical', Buffer.from([0x7b, 0xe5, 0x7d]))).toBeUndefined();
    expect(showDocument('canonical', Buffer.from([0x7b, 0xe5, 0x7d]))).toBe('{\uFFFD}');
  });
});
