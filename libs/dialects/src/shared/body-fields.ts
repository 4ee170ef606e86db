import type { MessageType } from '@svu/canonical';
import type { CodeTable } from './code-tables';

/** How a body field's value is carried. */
export type FieldKind =
  | { readonly kind: 'text' }
  | { readonly kind: 'instant' }
  | { readonly kind: 'date' }
  | { readonly kind: 'code'; readonly table: CodeTable }
  | { readonly kind: 'codes'; readonly table: CodeTable };

/** One body field: its canonical key and its name in each dialect. */
export type BodyField = FieldKind & {
  readonly key: string;
  readonly lifecare: string;
  readonly webcare: string;
  readonly samsa: string;
};

/** A body: the element or key that holds it per dialect (webcare always uses DATA), and its fields in order. */
export interface BodyLayout {
  readonly lifecare: string;
  readonly samsa: string;
  readonly fields: readonly BodyField[];
}

const text = { kind: 'text' } as const;
const instant = { kind: 'instant' } as const;
const date = { kind: 'date' } as const;
const code = (table: CodeTable) => ({ kind: 'code', table }) as const;

const f = (key: string, kind: FieldKind, lifecare: string, webcare: string, samsa: string): BodyField => ({
  ...kind,
  key,
  lifecare,
  webcare,
  samsa,
});

/** Body fields of each message type, in the element order of docs/contract.md sections 1.1, 4, 5 and 6. */
export const BODY_LAYOUT: Readonly<Record<MessageType, BodyLayout>> = {
  admission: {
    lifecare: 'Admission',
    samsa: 'inskrivning',
    fields: [
      f('admittedAt', instant, 'AdmittedAt', 'INSKR', 'inskriven'),
      f('assessedAt', instant, 'AssessedAt', 'BEDOMD', 'bedomd'),
      f('estimatedDischargeDate', date, 'EstimatedDischargeDate', 'BER_UTSKR', 'beraknatUtskrivningsdatum'),
      f('careType', code('careType'), 'CareType', 'VARDTYP', 'vardform'),
      f('reason', text, 'Reason', 'ORSAK', 'orsak'),
      f('needs', { kind: 'codes', table: 'need' }, 'Needs', 'BEHOV', 'behov'),
    ],
  },
  'discharge-estimate': {
    lifecare: 'DischargeEstimate',
    samsa: 'beraknatDatum',
    fields: [f('estimatedDischargeDate', date, 'EstimatedDischargeDate', 'BER_UTSKR', 'beraknatUtskrivningsdatum')],
  },
  'care-contact': {
    lifecare: 'CareContact',
    samsa: 'fastVardkontakt',
    fields: [
      f('name', text, 'Name', 'KNAMN', 'namn'),
      f('title', text, 'Title', 'KTITEL', 'titel'),
      f('phone', text, 'Phone', 'KTEL', 'telefon'),
      f('hsaId', text, 'HsaId', 'KHSA', 'hsaId'),
    ],
  },
  'sip-invitation': {
    lifecare: 'SipInvitation',
    samsa: 'kallelseSip',
    fields: [
      f('startsAt', instant, 'StartsAt', 'SIP_TID', 'tid'),
      f('form', code('sipForm'), 'Form', 'SIP_FORM', 'form'),
      f('location', text, 'Location', 'SIP_PLATS', 'plats'),
    ],
  },
  'ready-for-discharge': {
    lifecare: 'ReadyForDischarge',
    samsa: 'utskrivningsklar',
    fields: [f('readyAt', instant, 'ReadyAt', 'KLAR', 'klar'), f('destination', code('destination'), 'Destination', 'DEST', 'destination')],
  },
  discharged: {
    lifecare: 'Discharged',
    samsa: 'utskriven',
    fields: [
      f('dischargedAt', instant, 'DischargedAt', 'UTSKR', 'utskriven'),
      f('destination', code('destination'), 'Destination', 'DEST', 'destination'),
    ],
  },
  message: {
    lifecare: 'Message',
    samsa: 'meddelande',
    fields: [f('subject', text, 'Subject', 'RUBRIK', 'rubrik'), f('text', text, 'Text', 'TEXT', 'text')],
  },
  cancellation: {
    lifecare: 'Cancellation',
    samsa: 'makulering',
    fields: [f('cancelsMessageId', text, 'CancelsMessageId', 'MAK_ID', 'makulerarId'), f('reason', text, 'Reason', 'ORSAK', 'orsak')],
  },
  acknowledgement: {
    lifecare: 'Acknowledgement',
    samsa: 'kvittens',
    fields: [
      f('acknowledgesMessageId', text, 'AcknowledgesMessageId', 'KV_ID', 'kvitterarId'),
      f('status', code('ackStatus'), 'Status', 'KV_STATUS', 'status'),
      f('reason', text, 'Reason', 'ORSAK', 'orsak'),
    ],
  },
};

/** The lifecare element that holds each list entry. */
export const LIFECARE_LIST_ITEM: Readonly<Record<string, string>> = { Needs: 'Need' };
