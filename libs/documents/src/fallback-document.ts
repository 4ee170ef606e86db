import PDFDocument from 'pdfkit';
import type { CanonicalMessage } from '@svu/canonical';
import { toHyphenated } from '@svu/identity';
import { isInstant, toSwedishWallClock, pad } from '@svu/swedish-time';
import { CODE_TEXT, FIELD_LABEL, TYPE_TITLE } from './swedish-labels';

/** Where the document goes, from the unit directory (or only the hsaId, when the unit is not in it). */
export interface DocumentRecipient {
  readonly hsaId: string;
  readonly name?: string;
  readonly fax?: string;
  readonly postalAddress?: readonly string[];
}

export interface FallbackInput {
  /** A letter (postal address) or a fax (cover page with the fax number, then the content). */
  readonly kind: 'letter' | 'fax';
  readonly message: CanonicalMessage;
  readonly recipient: DocumentRecipient;
  /** The deadline (admissions: notifyBy), a canonical instant. */
  readonly deadline?: string;
  /** Correlates the document with the message copy: printed on every page. */
  readonly reference: string;
  readonly createdAt: string;
  /** TrueType fonts that cover Swedish and Sami letters (DejaVu Sans). */
  readonly fonts: { readonly regular: string | Buffer; readonly bold: string | Buffer };
}

const MARGIN = 56;

/** Swedish wall-clock time of an instant: `2026-03-29 13:15 (svensk tid)`. */
export function swedishTime(instant: string): string {
  const w = toSwedishWallClock(instant);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)} (svensk tid)`;
}

function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  const text = String(value);
  if (isInstant(text)) return swedishTime(text);
  return CODE_TEXT[text] ?? text;
}

function identityText(message: CanonicalMessage): string | undefined {
  const patient = message.patient;
  if (patient === undefined) return undefined;
  const id = patient.idType === 'reservnummer' ? patient.id : toHyphenated(patient.id);
  return `${CODE_TEXT[patient.idType]}: ${id}`;
}

/**
 * A fallback document as PDF (A4, Swedish): everything the message says, the deadline, and a
 * reference that correlates it with the message, for sending by fax or letter when electronic
 * delivery cannot make the deadline. For a patient with protected identity the fax cover shows
 * neither name nor identity number, the content leaves the names out, and every page says that it
 * holds protected data.
 */
export async function renderFallbackDocument(input: FallbackInput): Promise<Buffer> {
  if (input.kind === 'letter') return (await render(input, undefined)).pdf;
  // The fax cover states the page count, known only once the content is laid out: lay it out once
  // to count, then again with the count (the cover is always one page, so the count does not move).
  const counted = await render(input, undefined);
  return (await render(input, counted.pages)).pdf;
}

function render(input: FallbackInput, pageCount: number | undefined): Promise<{ pdf: Buffer; pages: number }> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN + 20, left: MARGIN, right: MARGIN },
    bufferPages: true,
    info: { Title: `${TYPE_TITLE[input.message.type]} – ${input.reference}`, Author: 'SVU-gateway', Subject: 'Reservrutin' },
    lang: 'sv-SE',
  });
  doc.registerFont('regular', input.fonts.regular);
  doc.registerFont('bold', input.fonts.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  let pages = 0;
  const done = new Promise<{ pdf: Buffer; pages: number }>((resolve, reject) => {
    doc.on('end', () => resolve({ pdf: Buffer.concat(chunks), pages }));
    doc.on('error', reject);
  });

  const protectedIdentity = input.message.patient?.protectedIdentity === true;
  if (input.kind === 'fax') {
    faxCover(doc, input, protectedIdentity, pageCount);
    doc.addPage();
  } else {
    letterHead(doc, input);
  }
  content(doc, input, protectedIdentity);
  pages = footers(doc, input, protectedIdentity);
  doc.end();
  return done;
}

function heading(doc: PDFKit.PDFDocument, text: string, size = 16): void {
  doc.font('bold').fontSize(size).text(text);
  doc.moveDown(0.4);
}

function row(doc: PDFKit.PDFDocument, label: string, value: string): void {
  doc.font('bold').fontSize(10).text(`${label}: `, { continued: true }).font('regular').text(value);
}

function faxCover(doc: PDFKit.PDFDocument, input: FallbackInput, protectedIdentity: boolean, pageCount: number | undefined): void {
  const { message, recipient } = input;
  doc.font('bold').fontSize(28).text('FAX');
  doc.font('regular').fontSize(11).text('Samverkan vid utskrivning – reservrutin');
  doc.moveDown(1.5);
  row(doc, 'Till', recipient.name ?? `Enhet ${recipient.hsaId} (saknas i enhetskatalogen)`);
  row(doc, 'Faxnummer', recipient.fax ?? 'saknas i enhetskatalogen – kontrollera numret innan sändning');
  row(doc, 'Mottagarens HSA-id', recipient.hsaId);
  doc.moveDown(0.6);
  row(doc, 'Från', `${message.sender.name} (${message.sender.hsaId})`);
  row(doc, 'Antal sidor inklusive försättsblad', pageCount === undefined ? '–' : String(pageCount));
  row(doc, 'Ärende', TYPE_TITLE[message.type]);
  if (input.deadline !== undefined) row(doc, 'Ska vara mottagaren till handa senast', swedishTime(input.deadline));
  row(doc, 'Referens', input.reference);
  row(doc, 'Skapat', swedishTime(input.createdAt));
  doc.moveDown(1.5);
  if (protectedIdentity) {
    doc.font('bold').fontSize(12).fillColor('#b00000').text('Innehåller skyddade personuppgifter. Hanteras enligt rutinen för skyddad identitet.');
    doc.fillColor('black');
    doc.moveDown(0.6);
  }
  doc
    .font('regular')
    .fontSize(10)
    .text(
      'Meddelandet kunde inte levereras elektroniskt i tid och skickas därför per fax. ' +
        'Om faxet har kommit fel: kontakta avsändaren och förstör handlingen. ' +
        'Ange referensen vid alla kontakter om ärendet.',
    );
}

function letterHead(doc: PDFKit.PDFDocument, input: FallbackInput): void {
  const { recipient, message } = input;
  doc.font('regular').fontSize(9).text(`${message.sender.name}`, { align: 'left' });
  doc.moveDown(2);
  const address = [recipient.name ?? `Enhet ${recipient.hsaId}`, ...(recipient.postalAddress ?? ['Postadress saknas i enhetskatalogen'])];
  doc.font('regular').fontSize(11).text(address.join('\n'), MARGIN + 250, doc.y, { width: 230 });
  doc.x = MARGIN;
  doc.moveDown(2);
  doc.font('regular').fontSize(10).text(`Datum: ${swedishTime(input.createdAt)}`);
  doc.text(`Referens: ${input.reference}`);
  doc.moveDown(1);
}

function content(doc: PDFKit.PDFDocument, input: FallbackInput, protectedIdentity: boolean): void {
  const { message } = input;
  heading(doc, TYPE_TITLE[message.type]);
  if (input.deadline !== undefined) {
    doc.font('bold').fontSize(11).text(`Ska vara mottagaren till handa senast ${swedishTime(input.deadline)}.`);
    doc.moveDown(0.4);
  }
  doc
    .font('regular')
    .fontSize(10)
    .text('Det här meddelandet kunde inte levereras elektroniskt i tid och skickas därför manuellt enligt reservrutinen för samverkan vid utskrivning.');
  doc.moveDown(0.8);

  heading(doc, 'Meddelande', 12);
  row(doc, 'Meddelande-id', message.messageId);
  row(doc, 'Vårdtillfälle', message.episodeId);
  row(doc, 'Skickat', swedishTime(message.sentAt));
  row(doc, 'Avsändare', `${message.sender.name} (${message.sender.hsaId})`);
  row(doc, 'Mottagare', message.recipients.map((r) => `${r.hsaId} (${CODE_TEXT[r.role]})`).join(', '));
  doc.moveDown(0.8);

  const patient = message.patient;
  if (patient !== undefined) {
    heading(doc, 'Patient', 12);
    if (protectedIdentity) {
      doc.font('bold').fontSize(10).fillColor('#b00000').text('Skyddad identitet: uppgifterna får inte lämnas ut. Namn visas inte.');
      doc.fillColor('black');
    } else {
      row(doc, 'Namn', `${patient.givenName ?? ''} ${patient.familyName ?? ''}`.trim());
    }
    row(doc, 'Identitet', identityText(message) ?? '');
    row(doc, 'Folkbokföringskommun (kommunkod)', patient.municipality);
    doc.moveDown(0.8);
  }

  heading(doc, 'Innehåll', 12);
  for (const [key, value] of Object.entries(message.body as unknown as Record<string, unknown>)) {
    row(doc, FIELD_LABEL[key] ?? key, valueText(value));
  }
}

function footers(doc: PDFKit.PDFDocument, input: FallbackInput, protectedIdentity: boolean): number {
  const range = doc.bufferedPageRange();
  const total = range.count;
  for (let i = 0; i < total; i++) {
    doc.switchToPage(range.start + i);
    const bottom = doc.page.height - MARGIN;
    const note = protectedIdentity ? ' · Skyddade personuppgifter' : '';
    // The footer sits in the bottom margin; with the margin set to 0 pdfkit does not start a new page for it.
    const margin = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('regular')
      .fontSize(8)
      .fillColor('#444444')
      .text(`Referens ${input.reference} · Sida ${i + 1} av ${total}${note}`, MARGIN, bottom, {
        width: doc.page.width - 2 * MARGIN,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = margin;
    doc.fillColor('black');
  }
  return total;
}
