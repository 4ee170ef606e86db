import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleCanonical } from '../../../test/fixtures/contract-examples';
import { dejavuFonts, renderFallbackDocument, type FallbackInput } from './index';

/** Text of each page, extracted with pdftotext (poppler-utils), pages split on form feeds. */
function pagesOf(pdf: Buffer): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'svu-pdf-')), 'doc.pdf');
  writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  return text.split('\f').filter((page) => page.trim() !== '');
}

const fonts = dejavuFonts();
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
