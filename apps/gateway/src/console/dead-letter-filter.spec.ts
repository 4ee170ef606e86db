import { queryOf } from '../common/http/schema.pipe';
import type { DeadLetterListQuery } from '../common/http/generated/api';
import { filterOf, withUnitNames } from './dead-letter-filter';

describe('the dead-letter filter', () => {
  it('takes the fields of a checked list query with a value, without its paging', () => {
    const query = queryOf<DeadLetterListQuery>('DeadLetterListQuery').transform({ status: 'all', dialect: 'webcare', from: '2026-05-01', q: '', cursor: 'abc', limit: '10' });
    expect(filterOf(query)).toEqual({ status: 'all', dialect: 'webcare', from: '2026-05-01' });
  });

  it('leaves out empty values and keys a bulk body carries besides the filter fields', () => {
    expect(filterOf({ reason: '', recipient: 'SE2120000004-HTTP', ...{ note: 'x' } })).toEqual({ recipient: 'SE2120000004-HTTP' });
    expect(filterOf(undefined)).toEqual({});
  });

  it('matches the recipient text against the units\' directory names too, in any case', () => {
    const units = [{ hsaId: 'SE2321000016-1480', name: 'Hemsjukvården Alingsås' }, { hsaId: 'SE2321000016-1481', name: 'Socialtjänst Alingsås' }, { hsaId: 'SE2321000016-X' }];
    expect(withUnitNames({ recipient: 'HEMSJUKVÅRD' }, units)).toEqual({ recipient: 'HEMSJUKVÅRD', recipientIds: ['SE2321000016-1480'] });
    expect(withUnitNames({ recipient: 'alingsås' }, units).recipientIds).toEqual(['SE2321000016-1480', 'SE2321000016-1481']);
    expect(withUnitNames({ recipient: '1480' }, units).recipientIds).toEqual([]);
    expect(withUnitNames({ reason: 'delivery-failed' }, units)).toEqual({ reason: 'delivery-failed' });
  });
});
