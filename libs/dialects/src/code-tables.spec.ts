import type { CanonicalMessage } from '@svu/canonical';
import { exampleCanonical } from '../../../test/fixtures/contract-examples';
import { readValid } from '../../../test/fixtures/read-helpers';
import { decodeDocument } from './charset';
import { canonicalCodes, codeToWire, type CodeTable, type WireDialect } from './shared/code-tables';
import { readMessage, writeMessage } from './translate';

const DIALECTS: readonly WireDialect[] = ['lifecare', 'webcare', 'samsa'];

/** A valid message that carries `code` of `table` at one place, and how to find it again. */
function carrying(table: CodeTable, code: string): { message: CanonicalMessage; pick: (m: CanonicalMessage) => unknown } {
  const on = <T extends Parameters<typeof exampleCanonical>[0]>(type: T, set: (m: any) => void, pick: (m: any) => unknown) => {
    const message = exampleCanonical(type);
    set(message);
    return { message: message as CanonicalMessage, pick };
  };
  switch (table) {
    case 'messageType':
      return on(code as any, () => undefined, (m) => m.type);
    case 'role':
      return on('admission', (m) => (m.recipients[0].role = code), (m) => m.recipients[0].role);
    case 'careType':
      return on('admission', (m) => (m.body.careType = code), (m) => m.body.careType);
    case 'idType':
      return on(
        'admission',
        (m) => Object.assign(m.patient, code === 'reservnummer' ? { idType: code, id: 'RES-1' } : code === 'samordningsnummer' ? { idType: code, id: '195211642383' } : {}),
        (m) => m.patient.idType,
      );
    case 'destination':
      return on('discharged', (m) => (m.body.destination = code), (m) => m.body.destination);
    case 'need':
      return on('admission', (m) => (m.body.needs = [code]), (m) => m.body.needs[0]);
    case 'sipForm':
      return on('sip-invitation', (m) => (m.body.form = code), (m) => m.body.form);
    case 'ackStatus':
      return on('acknowledgement', (m) => Object.assign(m.body, { status: code, reason: 'Fel mottagare' }), (m) => m.body.status);
  }
}

const TABLES: readonly CodeTable[] = ['messageType', 'role', 'careType', 'idType', 'destination', 'need', 'sipForm', 'ackStatus'];
const rows = TABLES.flatMap((table) =>
  canonicalCodes(table).flatMap((code) => DIALECTS.map((dialect) => [table, code, dialect, codeToWire(table, dialect, code)] as const)),
);

describe('code tables (docs/contract.md section 3)', () => {
  it.each(rows)('%s %s is %s code %s, both ways', (table, code, dialect, wire) => {
    const { message, pick } = carrying(table, code);
    expect(readMessage('canonical', Buffer.from(JSON.stringify(message))).ok).toBe(true);
    const bytes = writeMessage(dialect, message);
    const text = decodeDocument(dialect, bytes);
    expect(text).toMatch(new RegExp(`[<>"]${wire.replace(/[-]/g, "\\-")}[<>",]`));
    expect(pick(readValid(dialect, bytes))).toBe(code);
  });

  it('has the contract values for a few hand-checked entries', () => {
    expect(codeToWire('need', 'webcare', 'special-housing')).toBe('SÄBO');
    expect(codeToWire('role', 'samsa', 'hospital')).toBe('slutenvard');
    expect(codeToWire('ackStatus', 'webcare', 'rejected')).toBe('FEL');
    expect(codeToWire('messageType', 'samsa', 'discharge-estimate')).toBe('beraknat-utskrivningsdatum');
  });
});
