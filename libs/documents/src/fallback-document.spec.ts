import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { MessageType } from '@svu/canonical';
import { parseDirectory } from '@svu/directory';
import { exampleCanonical } from '../../../test/fixtures/contract-examples';
import { dejavuFonts, renderFallbackDocument, type FallbackInput, type UnitContact } from './index';

/** Text of each page, extracted with pdftotext (poppler-utils), pages split on form feeds. */
function pagesOf(pdf: Buffer): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'svu-pdf-')), 'doc.pdf');
  writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  return text.split('\f').filter((page) => page.trim() !== '');
}

const fonts = dejavuFonts(process.env['SVU_FONT_DIR']);
const recipient = { hsaId: 'SE2120001637-K000000001480', name: 'Göteborgs Stad, hemsjukvård Centrum', fax: '+46 31 123 45 67', postalAddress: ['Box 123', '404 22 Göteborg'] };

function admission(change: (m: any) => void = () => undefined): FallbackInput['message'] {
  const message = exampleCanonical('admission');
  change(message);
  return message;
}

describe('fallback letter', () => {
  it('holds the whole message, the address, the deadline and the reference, in Swedish', async () => {
    const message = admission((m) => {
      m.patient.givenName = 'Áilu Đŋŧž';
      m.patient.familyName = 'Ŋuorra-Wąsowska';
    });
    const pages = pagesOf(await renderFallbackDocument({ kind: 'letter', message, recipient, deadline: '2026-03-29T11:15:00Z', reference: 'SVU-LC-2026-000123-7', createdAt: '2026-03-29T09:15:00Z', fonts }));
    const text = pages.join('\n');
    expect(text).toContain('Inskrivningsmeddelande');
    expect(text).toContain('Box 123');
    expect(text).toContain('404 22 Göteborg');
    expect(text).toContain('Áilu Đŋŧž Ŋuorra-Wąsowska');
    expect(text).toContain('19410708-6995');
    expect(text).toContain('Höftfraktur');
    expect(text).toContain('Hemtjänst, Hemsjukvård, Särskilt boende');
    expect(text).toContain('2026-04-03');
    expect(text).toContain('senast 2026-03-29 13:15 (svensk tid)');
    expect(text).toContain('SVU-LC-2026-000123-7');
    expect(pages[0]).toContain('Sida 1 av');
  });

  it('runs onto more pages for a long message, each with the reference and page number', async () => {
    const message = exampleCanonical('message');
    message.body.text = Array.from({ length: 80 }, (_, i) => `Rad ${i + 1}: läkemedelslista och omvårdnadsbehov.`).join('\n');
    const pages = pagesOf(await renderFallbackDocument({ kind: 'letter', message, recipient, reference: 'REF-2', createdAt: '2026-03-29T09:15:00Z', fonts }));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    pages.forEach((page, i) => expect(page).toContain(`Referens REF-2 · Sida ${i + 1} av ${pages.length}`));
  });
});

describe('fallback fax', () => {
  it('starts with a cover page: fax number, sender, page count, deadline, reference', async () => {
    const pages = pagesOf(await renderFallbackDocument({ kind: 'fax', message: admission(), recipient, deadline: '2026-03-29T11:15:00Z', reference: 'SVU-FAX-1', createdAt: '2026-03-29T09:15:00Z', fonts }));
    const cover = pages[0]!;
    expect(cover).toContain('FAX');
    expect(cover).toContain('+46 31 123 45 67');
    expect(cover).toContain('Medicinavdelning 12');
    expect(cover).toContain('Avsändarens telefon: saknas i enhetskatalogen');
    expect(cover).toContain(`Antal sidor inklusive försättsblad: ${pages.length}`);
    expect(cover).toContain('2026-03-29 13:15 (svensk tid)');
    expect(cover).toContain('SVU-FAX-1');
    expect(pages.slice(1).join('\n')).toContain('Höftfraktur');
  });

  it('shows neither name nor identity number on the cover for a protected patient, and says the data is protected', async () => {
    const message = admission((m) => (m.patient.protectedIdentity = true));
    const pages = pagesOf(await renderFallbackDocument({ kind: 'fax', message, recipient, deadline: '2026-03-29T11:15:00Z', reference: 'SVU-P-1', createdAt: '2026-03-29T09:15:00Z', fonts }));
    const cover = pages[0]!;
    for (const secret of ['Karin', 'Öberg', '19410708-6995', '410708', '6995']) expect(cover).not.toContain(secret);
    expect(cover).toContain('skyddade personuppgifter');
    const rest = pages.slice(1).join('\n');
    expect(rest).not.toContain('Karin');
    expect(rest).not.toContain('Öberg');
    expect(rest).toContain('Skyddad identitet');
    expect(rest).toContain('19410708-6995');
  });
});

// The sample directory (config/directory.json) knows every unit of the contract examples.
const parsed = parseDirectory(readFileSync('config/directory.json', 'utf8'));
if (!parsed.ok) throw new Error('config/directory.json is invalid');
const sampleDirectory = parsed.value;
const unit = (hsaId: string): UnitContact | undefined => {
  const found = sampleDirectory.lookup(hsaId);
  return found === undefined ? undefined : { ...found, hsaId };
};
const municipalityName = (code: string) => ({ '1480': 'Göteborg', '2580': 'Luleå' })[code];

const TITLES: ReadonlyArray<[Exclude<MessageType, 'acknowledgement'>, string]> = [
  ['admission', 'Inskrivningsmeddelande'],
  ['discharge-estimate', 'Beräknat utskrivningsdatum'],
  ['care-contact', 'Fast vårdkontakt utsedd'],
  ['sip-invitation', 'Kallelse till SIP-möte'],
  ['ready-for-discharge', 'Meddelande om utskrivningsklar patient'],
  ['discharged', 'Utskrivningsmeddelande'],
  ['message', 'Fritt meddelande'],
  ['cancellation', 'Makulering av meddelande'],
];

/** Renders the example of `type` to its first recipient, as a fax and as a letter. */
async function documentsOf(type: MessageType, change: (m: any) => void = () => undefined, extra: Partial<FallbackInput> = {}): Promise<{ fax: string[]; letter: string[] }> {
  const message = exampleCanonical(type);
  change(message);
  const to = unit(message.recipients[0]!.hsaId)!;
  const common = { message, recipient: to, reference: `SVU-9-${message.messageId}`, createdAt: '2026-07-01T09:00:00Z', fonts, unit, municipalityName, ...extra };
  const fax = await renderFallbackDocument({ kind: 'fax', ...common });
  const letter = await renderFallbackDocument({ kind: 'letter', ...common });
  // SVU_DOCUMENT_SAMPLES=<dir> keeps the PDFs, to look at them (pdftoppm -png).
  const keep = process.env['SVU_DOCUMENT_SAMPLES'];
  if (keep !== undefined) for (const [kind, pdf] of [['fax', fax], ['letter', letter]] as const) writeFileSync(join(keep, `${type}.${kind}.pdf`), pdf);
  return { fax: pagesOf(fax), letter: pagesOf(letter) };
}

/** Text with every run of white space made one space (pdftotext -layout keeps line breaks and column gaps). */
const flat = (pages: string[]) => pages.join('\n').replace(/\s+/g, ' ');

describe('documents per type', () => {
  it.each(TITLES)('%s: the title, the sender to call, the other recipients by name, the municipality by name, and a receipt section', async (type, title) => {
    const { fax, letter } = await documentsOf(type);
    const message = exampleCanonical(type);
    const sender = unit(message.sender.hsaId)!;
    for (const pages of [fax, letter]) {
      const text = flat(pages);
      expect(text).toContain(title);
      expect(text).toContain(`Telefon: ${sender.phone}`);
      expect(text).toContain(sender.organisation);
      expect(text).toContain(`Postadress: ${sender.postalAddress!.join(', ')}`);
      const others = message.recipients.slice(1).map((r) => unit(r.hsaId)!.name!);
      for (const other of others) expect(text).toContain(other);
      if (others.length === 0) expect(text).toContain('Övriga mottagare: inga');
      if (message.patient !== undefined) expect(text).toContain(`Folkbokföringskommun: ${municipalityName(message.patient.municipality)} (kommunkod ${message.patient.municipality})`);
      expect(text).toContain('Kvittens – bekräfta mottagandet');
      expect(text).toContain(`ring ${sender.name}`);
      expect(text).toContain(`på ${sender.phone}`);
      if (sender.fax === undefined) expect(text).not.toContain('faxa tillbaka');
      else expect(text).toContain(`faxa tillbaka sidan till ${sender.fax}`);
      expect(text).toContain(`Ange referens SVU-9-${message.messageId}`);
    }
    expect(fax[0]).toContain(`Ärende: ${title}`);
    expect(flat([fax[0]!])).toContain(`Avsändarens telefon: ${sender.phone}`);
    // The letter head names the sending unit and its address above the recipient's.
    expect(letter[0]).toContain(sender.organisation);
  });

  it('shows day 0 of a ready notice prominently: the Swedish date it was sent', async () => {
    const { letter } = await documentsOf('ready-for-discharge', (m) => (m.sentAt = '2026-07-01T22:30:00Z'));
    expect(letter[0]).toContain('Dag 0: 2026-07-02');
  });

  it('says "ej angivet" when an admission has no estimated discharge date, and shows the date when it has one', async () => {
    const without = await documentsOf('admission', (m) => delete m.body.estimatedDischargeDate);
    expect(flat(without.letter)).toContain('Beräknat utskrivningsdatum: ej angivet');
    const withDate = await documentsOf('admission');
    expect(flat(withDate.letter)).toContain('Beräknat utskrivningsdatum: 2026-04-03');
    expect(flat(withDate.letter)).not.toContain('ej angivet');
  });

  it('shows the code alone when no municipality name is known, and a unit missing from the directory by its hsaId', async () => {
    const { letter } = await documentsOf('admission', (m) => (m.recipients[1].hsaId = 'SE2321000131-P000000099999'), { municipalityName: () => undefined });
    const text = flat(letter);
    expect(text).toContain('Folkbokföringskommun: kommunkod 1480');
    expect(text).toContain('SE2321000131-P000000099999 (saknas i enhetskatalogen)');
  });

  it('a cancellation names what it cancels and how that went: by fax, when, and its reference', async () => {
    const { fax } = await documentsOf('cancellation', () => undefined, {
      cancels: { messageId: 'LC-2026-000140', type: 'admission', sentVia: 'fax', sentAt: '2026-03-28T10:00:00Z', reference: 'SVU-7-VGR-2026-03-0001' },
    });
    const text = flat(fax);
    expect(text).toContain('MAKULERAT');
    expect(text).toContain('Inskrivningsmeddelande (meddelande-id LC-2026-000140) som skickades per fax 2026-03-28 11:00 (svensk tid), referens SVU-7-VGR-2026-03-0001');
    expect(text).toContain('Orsak till makulering');
  });

  it('keeps protected identity rules on every type: no name anywhere, no identity number on the fax cover', async () => {
    const { fax, letter } = await documentsOf('ready-for-discharge');
    expect(exampleCanonical('ready-for-discharge').patient!.protectedIdentity).toBe(true);
    expect(fax[0]).not.toContain('195211642383');
    expect(fax[0]).not.toContain('521164');
    expect(fax[0]).toContain('skyddade personuppgifter');
    for (const page of [...fax, ...letter]) expect(page).toContain('Skyddade personuppgifter');
  });
});
