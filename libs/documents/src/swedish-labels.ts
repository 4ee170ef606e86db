import type { MessageType } from '@svu/canonical';

/** Swedish names of what a fallback document shows (docs/contract.md section 3, Swedish column). */
export const TYPE_TITLE: Readonly<Record<MessageType, string>> = {
  admission: 'Inskrivningsmeddelande',
  'discharge-estimate': 'Beräknat utskrivningsdatum',
  'care-contact': 'Fast vårdkontakt utsedd',
  'sip-invitation': 'Kallelse till SIP-möte',
  'ready-for-discharge': 'Meddelande om utskrivningsklar patient',
  discharged: 'Utskrivningsmeddelande',
  message: 'Fritt meddelande',
  cancellation: 'Makulering av meddelande',
  acknowledgement: 'Kvittens',
};

/** A field whose label depends on the message type (a cancellation's reason is not a reason for admission). */
export const TYPE_FIELD_LABEL: Readonly<Partial<Record<MessageType, Readonly<Record<string, string>>>>> = {
  cancellation: { reason: 'Orsak till makulering' },
  acknowledgement: { reason: 'Orsak' },
  'care-contact': { name: 'Fast vårdkontakt', hsaId: 'Vårdkontaktens HSA-id' },
};

/** The fields a document shows for a type even when the message leaves them out, as "ej angivet". */
export const SHOWN_WHEN_MISSING: Readonly<Partial<Record<MessageType, readonly string[]>>> = {
  admission: ['estimatedDischargeDate'],
};

export const FIELD_LABEL: Readonly<Record<string, string>> = {
  admittedAt: 'Inskriven',
  assessedAt: 'Läkarbedömning',
  estimatedDischargeDate: 'Beräknat utskrivningsdatum',
  careType: 'Vårdform',
  reason: 'Inskrivningsorsak',
  needs: 'Behov efter utskrivning',
  name: 'Namn',
  title: 'Titel',
  phone: 'Telefon',
  hsaId: 'HSA-id',
  startsAt: 'Mötestid',
  form: 'Mötesform',
  location: 'Plats',
  readyAt: 'Utskrivningsklar',
  destination: 'Till',
  dischargedAt: 'Utskriven',
  subject: 'Rubrik',
  text: 'Meddelande',
  cancelsMessageId: 'Makulerar meddelande',
  acknowledgesMessageId: 'Kvitterar meddelande',
  status: 'Status',
};

/** How a document was sent, in running text ("skickat per fax"). */
export const VIA_TEXT: Readonly<Record<'fax' | 'letter', string>> = { fax: 'per fax', letter: 'per brev' };

export const CODE_TEXT: Readonly<Record<string, string>> = {
  somatic: 'Somatisk vård',
  psychiatric: 'Psykiatrisk vård',
  'forensic-psychiatric': 'Rättspsykiatrisk vård',
  home: 'Hemmet',
  'special-housing': 'Särskilt boende',
  'short-term-stay': 'Korttidsvistelse',
  'other-care-provider': 'Annan vårdgivare',
  deceased: 'Avliden',
  'home-care': 'Hemtjänst',
  'home-health-care': 'Hemsjukvård',
  rehabilitation: 'Rehabilitering',
  'assistive-devices': 'Hjälpmedel',
  'on-site': 'Fysiskt möte',
  video: 'Videomöte',
  phone: 'Telefonmöte',
  received: 'Mottagen',
  rejected: 'Avvisad',
  hospital: 'Slutenvård',
  'primary-care': 'Primärvård',
  'psychiatric-outpatient': 'Öppenpsykiatri',
  'municipal-health-care': 'Kommunal hälso- och sjukvård',
  'social-services': 'Socialtjänst',
  personnummer: 'Personnummer',
  samordningsnummer: 'Samordningsnummer',
  reservnummer: 'Reservnummer',
};
