import type {
  AcknowledgementStatus,
  CareType,
  Destination,
  MessageType,
  Need,
  PatientIdType,
  RecipientRole,
  SipForm,
} from '@svu/canonical';

/** The dialects that travel on the wire. */
export type WireDialect = 'lifecare' | 'webcare' | 'samsa';
/** Every form a message can be read from or written to. */
export type Format = WireDialect | 'canonical';
export const FORMATS: readonly Format[] = ['lifecare', 'webcare', 'samsa', 'canonical'];

type Row = readonly [lifecare: string, webcare: string, samsa: string];
const COLUMN: Record<WireDialect, 0 | 1 | 2> = { lifecare: 0, webcare: 1, samsa: 2 };

/** Code tables of docs/contract.md section 3: canonical code → [lifecare, webcare, samsa]. */
const TABLES = {
  messageType: {
    admission: ['INSKRIVNING', '10', 'inskrivningsmeddelande'],
    'discharge-estimate': ['BERAKNAT_DATUM', '15', 'beraknat-utskrivningsdatum'],
    'care-contact': ['FAST_VARDKONTAKT', '20', 'fast-vardkontakt'],
    'sip-invitation': ['KALLELSE_SIP', '30', 'kallelse-sip'],
    'ready-for-discharge': ['UTSKRIVNINGSKLAR', '40', 'utskrivningsklar'],
    discharged: ['UTSKRIVEN', '50', 'utskriven'],
    message: ['MEDDELANDE', '60', 'meddelande'],
    cancellation: ['MAKULERING', '90', 'makulering'],
    acknowledgement: ['KVITTENS', '99', 'kvittens'],
  } satisfies Record<MessageType, Row>,
  role: {
    hospital: ['SJUKHUS', '1', 'slutenvard'],
    'primary-care': ['PRIMARVARD', '2', 'primarvard'],
    'psychiatric-outpatient': ['OPV', '3', 'oppenpsykiatri'],
    'municipal-health-care': ['KOMMUN_HSL', '4', 'kommunal-hsl'],
    'social-services': ['KOMMUN_SOL', '5', 'socialtjanst'],
  } satisfies Record<RecipientRole, Row>,
  careType: {
    somatic: ['SOMATIK', 'S', 'somatisk'],
    psychiatric: ['PSYKIATRI', 'P', 'psykiatrisk'],
    'forensic-psychiatric': ['RATTSPSYKIATRI', 'R', 'rattspsykiatrisk'],
  } satisfies Record<CareType, Row>,
  idType: {
    personnummer: ['PNR', 'PNR', 'personnummer'],
    samordningsnummer: ['SNR', 'SNR', 'samordningsnummer'],
    reservnummer: ['RES', 'RES', 'reservnummer'],
  } satisfies Record<PatientIdType, Row>,
  destination: {
    home: ['HEM', 'H', 'hem'],
    'special-housing': ['SARSKILT_BOENDE', 'SB', 'sarskilt-boende'],
    'short-term-stay': ['KORTTID', 'KT', 'korttid'],
    'other-care-provider': ['ANNAN_VARDGIVARE', 'AV', 'annan-vardgivare'],
    deceased: ['AVLIDEN', 'D', 'avliden'],
  } satisfies Record<Destination, Row>,
  need: {
    'home-care': ['HEMTJANST', 'HT', 'hemtjanst'],
    'home-health-care': ['HEMSJUKVARD', 'HSV', 'hemsjukvard'],
    'short-term-stay': ['KORTTID', 'KT', 'korttid'],
    'special-housing': ['SARSKILT_BOENDE', 'SÄBO', 'sarskilt-boende'],
    rehabilitation: ['REHAB', 'RH', 'rehabilitering'],
    'assistive-devices': ['HJALPMEDEL', 'HM', 'hjalpmedel'],
  } satisfies Record<Need, Row>,
  sipForm: {
    'on-site': ['PLATS', 'P', 'fysiskt'],
    video: ['VIDEO', 'V', 'video'],
    phone: ['TELEFON', 'T', 'telefon'],
  } satisfies Record<SipForm, Row>,
  ackStatus: {
    received: ['MOTTAGEN', 'OK', 'mottagen'],
    rejected: ['AVVISAD', 'FEL', 'avvisad'],
  } satisfies Record<AcknowledgementStatus, Row>,
} as const;

export type CodeTable = keyof typeof TABLES;
/** The canonical codes of a table. */
export type CanonicalCode<T extends CodeTable> = keyof (typeof TABLES)[T] & string;

type Lookup = { readonly toWire: Map<string, string>; readonly fromWire: Map<string, string> };
const LOOKUPS = new Map<string, Lookup>();
for (const [table, rows] of Object.entries(TABLES)) {
  for (const dialect of Object.keys(COLUMN) as WireDialect[]) {
    const toWire = new Map<string, string>();
    const fromWire = new Map<string, string>();
    for (const [canonical, row] of Object.entries(rows as Record<string, Row>)) {
      toWire.set(canonical, row[COLUMN[dialect]]);
      fromWire.set(row[COLUMN[dialect]], canonical);
    }
    LOOKUPS.set(`${table}/${dialect}`, { toWire, fromWire });
  }
}

function lookup(table: CodeTable, dialect: WireDialect): Lookup {
  return LOOKUPS.get(`${table}/${dialect}`)!;
}

/** The dialect's code for a canonical code. */
export function codeToWire<T extends CodeTable>(table: T, dialect: WireDialect, code: CanonicalCode<T>): string {
  return lookup(table, dialect).toWire.get(code)!;
}

/** The canonical code for a dialect's code, or undefined when the dialect has no such code. */
export function codeFromWire<T extends CodeTable>(
  table: T,
  dialect: WireDialect,
  wire: string,
): CanonicalCode<T> | undefined {
  return lookup(table, dialect).fromWire.get(wire) as CanonicalCode<T> | undefined;
}

/** Every code a dialect knows in a table (for error messages and tests). */
export function wireCodes(table: CodeTable, dialect: WireDialect): string[] {
  return [...lookup(table, dialect).fromWire.keys()];
}

/** Every canonical code of a table. */
export function canonicalCodes<T extends CodeTable>(table: T): CanonicalCode<T>[] {
  return Object.keys(TABLES[table]) as CanonicalCode<T>[];
}
