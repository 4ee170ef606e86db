import PDFDocument from 'pdfkit';
import { dayZero, type CanonicalMessage, type MessageType } from '@svu/canonical';
import { toHyphenated } from '@svu/identity';
import { isInstant, toSwedishWallClock, pad } from '@svu/swedish-time';
import { CODE_TEXT, FIELD_LABEL, SHOWN_WHEN_MISSING, TYPE_FIELD_LABEL, TYPE_TITLE, VIA_TEXT } from './swedish-labels';

/** A unit as a document shows it, from the unit directory (or only the hsaId, when the unit is not in it). */
export interface UnitContact {
  readonly hsaId: string;
  readonly name?: string;
  /** The region, municipality or company the unit belongs to. */
  readonly organisation?: string;
  readonly phone?: string;
  readonly fax?: string;
  readonly postalAddress?: readonly string[];
}

/** Where the document goes. */
export type DocumentRecipient = UnitContact;

/** A municipality's name by its kommunkod (libs/municipalities), undefined for a code it does not know. */
export type MunicipalityName = (code: string) => string | undefined;

/** What a cancellation cancels, as the recipient got it. */
export interface CancelledDocument {
  readonly messageId: string;
  readonly type?: MessageType;
  /** The reference of the fallback document the recipient got, when it went by fax or letter. */
  readonly reference?: string;
  readonly sentVia?: 'fax' | 'letter';
  readonly sentAt?: string;
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
  /** Looks a unit up (the sender, the other recipients) in the unit directory. */
  readonly unit?: (hsaId: string) => UnitContact | undefined;
  /** Names the patient's municipality beside its code; without it the code stands alone. */
  readonly municipalityName?: MunicipalityName;
  /** For a cancellation: the message it cancels. */
  readonly cancels?: CancelledDocument;
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

/** The sender as the directory knows it, else as the message names it. */
function senderOf(input: FallbackInput): UnitContact {
  const { sender } = input.message;
  return { name: sender.name, ...input.unit?.(sender.hsaId), hsaId: sender.hsaId };
}

/** A unit by name (and organisation), the hsaId when the directory does not know it. */
function unitName(unit: UnitContact | undefined, hsaId: string): string {
  if (unit?.name === undefined) return `${hsaId} (saknas i enhetskatalogen)`;
  return unit.organisation === undefined || unit.name.includes(unit.organisation) ? unit.name : `${unit.name}, ${unit.organisation}`;
}

/** `Luleå (2580)`; the code alone when no name is known for it. */
function municipalityText(code: string, name: MunicipalityName | undefined): string {
  const known = name?.(code);
  return known === undefined ? `kommunkod ${code}` : `${known} (kommunkod ${code})`;
}

/**
 * A fallback document as PDF (A4, Swedish): a title per message type, everything the message says
 * (day 0 of a ready notice shown prominently, an estimated discharge date the admission leaves out
 * as "ej angivet"), the sending unit's name, phone and postal address, the other recipients by name,
 * the municipality by name and code, the deadline, how to confirm receipt, and a reference that
 * correlates it with the message, for sending by fax or letter when electronic delivery cannot make
 * it in time. For a patient with protected identity the fax cover shows neither name nor identity
 * number, the content leaves the names out, and every page says that it holds protected data.
 */
export async function renderFallbackDocument(input: FallbackInput): Promise<Buffer> {
  return (await render(input)).pdf;
}

function render(input: FallbackInput): Promise<{ pdf: Buffer; pages: number }> {
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
  // The fax cover states the page count, known only once the content is laid out: the cover leaves
  // room for it, and it is written there afterwards (pages stay buffered), so a fax is laid out once.
  const countAt = input.kind === 'fax' ? faxCover(doc, input, protectedIdentity) : undefined;
  if (countAt !== undefined) doc.addPage();
  else letterHead(doc, input);
  content(doc, input, protectedIdentity);
  pages = footers(doc, input, protectedIdentity);
  if (countAt !== undefined) {
    doc.switchToPage(doc.bufferedPageRange().start);
    doc.font('regular').fontSize(10).text(String(pages), countAt.x, countAt.y, { lineBreak: false });
  }
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

/** Lays out the fax cover; returns where the page count goes once it is known. */
function faxCover(doc: PDFKit.PDFDocument, input: FallbackInput, protectedIdentity: boolean): { x: number; y: number } {
  const { message, recipient } = input;
  const sender = senderOf(input);
  doc.font('bold').fontSize(28).text('FAX');
  doc.font('regular').fontSize(11).text('Samverkan vid utskrivning – reservrutin');
  doc.moveDown(1.5);
  row(doc, 'Till', unitName(recipient.name === undefined ? undefined : recipient, recipient.hsaId));
  row(doc, 'Faxnummer', recipient.fax ?? 'saknas i enhetskatalogen – kontrollera numret innan sändning');
  row(doc, 'Mottagarens HSA-id', recipient.hsaId);
  doc.moveDown(0.6);
  row(doc, 'Från', unitName(sender, sender.hsaId));
  row(doc, 'Avsändarens telefon', sender.phone ?? 'saknas i enhetskatalogen');
  if (sender.fax !== undefined) row(doc, 'Svarsfax', sender.fax);
  const countLabel = 'Antal sidor inklusive försättsblad: ';
  const countAt = { x: MARGIN + doc.font('bold').fontSize(10).widthOfString(countLabel), y: doc.y };
  doc.text(countLabel, MARGIN, doc.y);
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
  const contact = sender.phone === undefined ? 'kontakta avsändaren' : `ring avsändaren på ${sender.phone}`;
  doc
    .font('regular')
    .fontSize(10)
    .text(
      'Meddelandet kunde inte levereras elektroniskt och skickas därför per fax. ' +
        `Om faxet har kommit fel: ${contact} och förstör handlingen. ` +
        'Ange referensen vid alla kontakter om ärendet.',
    );
  return countAt;
}

function letterHead(doc: PDFKit.PDFDocument, input: FallbackInput): void {
  const { recipient } = input;
  const sender = senderOf(input);
  const top = doc.y;
  const from = [sender.organisation, sender.name, ...(sender.postalAddress ?? []), sender.phone === undefined ? undefined : `Telefon ${sender.phone}`].filter(
    (line): line is string => line !== undefined,
  );
  doc.font('regular').fontSize(9).text(from.join('\n'), MARGIN, top, { width: 220 });
  const afterSender = doc.y;
  const address = [recipient.name ?? `Enhet ${recipient.hsaId}`, ...(recipient.postalAddress ?? ['Postadress saknas i enhetskatalogen'])];
  doc.font('regular').fontSize(11).text(address.join('\n'), MARGIN + 280, top + 40, { width: 200 });
  doc.x = MARGIN;
  doc.y = Math.max(afterSender, doc.y);
  doc.moveDown(2);
  doc.font('regular').fontSize(10).text(`Datum: ${swedishTime(input.createdAt)}`);
  doc.text(`Referens: ${input.reference}`);
  doc.moveDown(1);
}

/** A framed line that stands out: day 0 of a ready notice, a cancellation. */
function box(doc: PDFKit.PDFDocument, lines: readonly string[], note?: string): void {
  const x = MARGIN;
  const y = doc.y;
  const width = doc.page.width - 2 * MARGIN;
  doc.font('bold').fontSize(15).text(lines.join('\n'), x + 10, y + 8, { width: width - 20 });
  if (note !== undefined) doc.font('regular').fontSize(9).text(note, x + 10, doc.y + 2, { width: width - 20 });
  const height = doc.y - y + 8;
  doc.lineWidth(2).rect(x, y, width, height).stroke();
  doc.x = MARGIN;
  doc.y = y + height + 10;
}

function content(doc: PDFKit.PDFDocument, input: FallbackInput, protectedIdentity: boolean): void {
  const { message, recipient } = input;
  const sender = senderOf(input);
  heading(doc, TYPE_TITLE[message.type]);
  if (message.type === 'ready-for-discharge') {
    box(doc, [`Dag 0: ${dayZero(message)}`], 'Dag 0 är den dag meddelandet om utskrivningsklar patient skickades (svensk tid); betalningsansvaret räknas från den.');
  }
  if (message.type === 'cancellation') {
    const cancelled = input.cancels;
    const what = cancelled?.type === undefined ? `meddelande ${message.body.cancelsMessageId}` : `${TYPE_TITLE[cancelled.type]} (meddelande-id ${message.body.cancelsMessageId})`;
    const how =
      cancelled?.sentVia === undefined
        ? ''
        : ` som skickades ${VIA_TEXT[cancelled.sentVia]}${cancelled.sentAt === undefined ? '' : ` ${swedishTime(cancelled.sentAt)}`}${cancelled.reference === undefined ? '' : `, referens ${cancelled.reference}`}`;
    box(doc, ['MAKULERAT'], `Avsändaren har makulerat ${what}${how}. Det makulerade meddelandet gäller inte längre.`);
  }
  if (input.deadline !== undefined) {
    doc.font('bold').fontSize(11).text(`Ska vara mottagaren till handa senast ${swedishTime(input.deadline)}.`);
    doc.moveDown(0.4);
  }
  doc
    .font('regular')
    .fontSize(10)
    .text('Det här meddelandet kunde inte levereras elektroniskt och skickas därför manuellt enligt reservrutinen för samverkan vid utskrivning.');
  doc.moveDown(0.8);

  heading(doc, 'Avsändare', 12);
  row(doc, 'Enhet', unitName(sender, sender.hsaId));
  row(doc, 'Telefon', sender.phone ?? 'saknas i enhetskatalogen');
  if (sender.fax !== undefined) row(doc, 'Fax', sender.fax);
  row(doc, 'Postadress', sender.postalAddress === undefined ? 'saknas i enhetskatalogen' : sender.postalAddress.join(', '));
  row(doc, 'HSA-id', sender.hsaId);
  doc.moveDown(0.8);

  heading(doc, 'Meddelande', 12);
  row(doc, 'Meddelande-id', message.messageId);
  row(doc, 'Vårdtillfälle', message.episodeId);
  row(doc, 'Skickat', swedishTime(message.sentAt));
  row(doc, 'Mottagare', unitName(recipient.name === undefined ? undefined : recipient, recipient.hsaId));
  const others = message.recipients.filter((r) => r.hsaId !== recipient.hsaId);
  row(doc, 'Övriga mottagare', others.length === 0 ? 'inga' : others.map((r) => `${unitName(input.unit?.(r.hsaId), r.hsaId)} – ${CODE_TEXT[r.role]}`).join('; '));
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
    row(doc, 'Folkbokföringskommun', municipalityText(patient.municipality, input.municipalityName));
    doc.moveDown(0.8);
  }

  heading(doc, 'Innehåll', 12);
  const body = message.body as unknown as Record<string, unknown>;
  const labels = TYPE_FIELD_LABEL[message.type] ?? {};
  for (const [key, value] of Object.entries(body)) row(doc, labels[key] ?? FIELD_LABEL[key] ?? key, valueText(value));
  for (const key of SHOWN_WHEN_MISSING[message.type] ?? []) {
    if (body[key] === undefined) row(doc, labels[key] ?? FIELD_LABEL[key] ?? key, 'ej angivet');
  }
  doc.moveDown(0.8);
  receipt(doc, input, sender);
}

/** How the recipient confirms that the document arrived: the sender's phone, or this page faxed back. */
function receipt(doc: PDFKit.PDFDocument, input: FallbackInput, sender: UnitContact): void {
  heading(doc, 'Kvittens – bekräfta mottagandet', 12);
  const ways = [
    sender.phone === undefined ? undefined : `ring ${unitName(sender, sender.hsaId)} på ${sender.phone}`,
    sender.fax === undefined ? undefined : `fyll i raderna nedan och faxa tillbaka sidan till ${sender.fax}`,
  ].filter((w): w is string => w !== undefined);
  const how =
    ways.length === 0
      ? `Bekräfta mottagandet till ${unitName(sender, sender.hsaId)} (telefon och fax saknas i enhetskatalogen: använd regionens växel).`
      : `Bekräfta mottagandet samma dag: ${ways.join(', eller ')}.`;
  doc.font('regular').fontSize(10).text(`${how} Ange referens ${input.reference}.`);
  doc.moveDown(0.6);
  for (const label of ['Mottaget av (namn och enhet)', 'Datum och tid', 'Telefon för frågor']) {
    doc.font('regular').fontSize(10).text(`${label}: ${'_'.repeat(Math.max(10, 60 - label.length))}`);
    doc.moveDown(0.5);
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
