/**
 * npm run bench:fallback — time to render a two-page fallback letter, beside a bare pdfkit page with
 * the same embedded font measured in the same run. Target: under 50 ms a document.
 */
import PDFDocument from 'pdfkit';
import { dejavuFonts, renderFallbackDocument } from '@svu/documents';
import { exampleCanonical } from '../test/fixtures/contract-examples';
import { fmt, machine } from './bench-util';

const COUNT = Number(process.env['BENCH_COUNT'] ?? 200);
const TARGET_MS = 50;
const fonts = dejavuFonts();

function barePage(): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4' });
  doc.registerFont('regular', fonts.regular);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  doc.font('regular').fontSize(11).text('Inskrivningsmeddelande – Åsa Öberg, Đŋŧž');
  doc.end();
  return done;
}

async function timePerDocument(render: () => Promise<Buffer>): Promise<number> {
  for (let i = 0; i < 10; i++) await render();
  const start = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) await render();
  return Number(process.hrtime.bigint() - start) / 1e6 / COUNT;
}

async function main(): Promise<void> {
  const message = exampleCanonical('message');
  message.body.text = Array.from({ length: 60 }, (_, i) => `Rad ${i + 1}: läkemedelslista, omvårdnadsbehov och hjälpmedel inför hemgång.`).join('\n');
  const letter = () =>
    renderFallbackDocument({
      kind: 'letter',
      message,
      recipient: { hsaId: 'SE2120001637-K000000001480', name: 'Göteborgs Stad, hemsjukvård Centrum', postalAddress: ['Box 123', '404 22 Göteborg'] },
      deadline: '2026-03-29T11:15:00Z',
      reference: 'SVU-1-K-2026-000077',
      createdAt: '2026-03-29T09:15:00Z',
      fonts,
    });
  const sample = await letter();
  const pages = (sample.toString('latin1').match(/\/Type \/Page\b/g) ?? []).length;
  const bare = await timePerDocument(barePage);
  const ours = await timePerDocument(letter);
  console.log(`# bench:fallback — ${machine()}`);
  console.log(`${COUNT} documents each; the letter has ${pages} pages`);
  console.log(`bare pdfkit page, same font: ${fmt(bare, 2)} ms`);
  console.log(`fallback letter:             ${fmt(ours, 2)} ms (${fmt(ours / bare, 1)} × the bare page; target < ${TARGET_MS} ms: ${ours < TARGET_MS ? 'ok' : 'MISSED'})`);
  if (ours >= TARGET_MS) process.exitCode = 1;
}

void main();
