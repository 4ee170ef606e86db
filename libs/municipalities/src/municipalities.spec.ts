import { COUNTIES_LIST, MUNICIPALITIES, county, municipalitiesOf, municipality, municipalityName } from './index';

describe('the 290 kommunkoder', () => {
  it('has 290 municipalities in 21 counties, each code four digits starting with its county code', () => {
    expect(MUNICIPALITIES).toHaveLength(290);
    expect(COUNTIES_LIST).toHaveLength(21);
    for (const m of MUNICIPALITIES) {
      expect(m.code).toMatch(/^\d{4}$/);
      expect(m.code.slice(0, 2)).toBe(m.countyCode);
    }
    expect(new Set(MUNICIPALITIES.map((m) => m.name)).size).toBe(290);
  });

  it('counts the municipalities of every county', () => {
    const counts = Object.fromEntries(COUNTIES_LIST.map((c) => [c.code, municipalitiesOf(c.code).length]));
    expect(counts).toEqual({
      '01': 26, '03': 8, '04': 9, '05': 13, '06': 13, '07': 8, '08': 12, '09': 1, '10': 5, '12': 33, '13': 6,
      '14': 49, '17': 16, '18': 12, '19': 10, '20': 15, '21': 10, '22': 7, '23': 8, '24': 15, '25': 14,
    });
  });

  it('names municipalities and counties, and knows no code outside the list', () => {
    expect(municipalityName('0680')).toBe('Jönköping');
    expect(municipalityName('2480')).toBe('Umeå');
    expect(municipalityName('1480')).toBe('Göteborg');
    expect(municipalityName('0180')).toBe('Stockholm');
    expect(municipalityName('1380')).toBe('Halmstad');
    expect(county('0604')).toEqual({ code: '06', name: 'Jönköpings län' });
    expect(county('2482')).toEqual({ code: '24', name: 'Västerbottens län' });
    expect(municipality('0980')).toEqual({ code: '0980', name: 'Gotland', countyCode: '09', countyName: 'Gotlands län' });
    // Valid in shape (the message schema accepts it) but no municipality.
    expect(municipalityName('0199')).toBeUndefined();
    expect(county('0199')).toBeUndefined();
    expect(municipalityName('toString')).toBeUndefined();
    // Västra Götaland's municipalities all have 14xx codes since the counties merged in 1998.
    expect(municipalitiesOf('15')).toEqual([]);
    expect(municipalitiesOf('14').map((m) => m.code).every((c) => c >= '1401' && c <= '1499')).toBe(true);
  });
});
