import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatProblem } from '@svu/canonical';
import { loadFallbackDelays, parseFallbackConfig } from './fallback-config';
import { loadConfig } from './gateway-config';

const H = 3_600_000;

describe('the fallback configuration', () => {
  it('reads config/fallback.json: 2 h for ready, discharged and SIP invitation, 4 h for the others', () => {
    const delays = loadFallbackDelays('config/fallback.json', true);
    expect(delays).toEqual({
      'ready-for-discharge': 2 * H,
      discharged: 2 * H,
      'sip-invitation': 2 * H,
      'discharge-estimate': 4 * H,
      'care-contact': 4 * H,
      message: 4 * H,
      cancellation: 4 * H,
    });
  });

  it('keeps the default of a type the file leaves out', () => {
    const parsed = parseFallbackConfig(JSON.stringify({ afterAcceptance: { message: 'PT30M' } }));
    expect(parsed.ok && parsed.value.message).toBe(30 * 60_000);
    expect(parsed.ok && parsed.value['ready-for-discharge']).toBe(2 * H);
  });

  it('refuses a broken file with problems that name the field', () => {
    const parsed = parseFallbackConfig(JSON.stringify({ afterAcceptance: { 'ready-for-discharge': 'two hours', acknowledgement: 'PT1H' } }));
    expect(parsed.ok).toBe(false);
    const lines = parsed.ok ? [] : parsed.problems.map(formatProblem);
    expect(lines.some((l) => l.startsWith('afterAcceptance.ready-for-discharge') && l.includes('ISO 8601 duration'))).toBe(true);
    expect(lines).toContain('afterAcceptance.acknowledgement: is not a known key');
  });

  it('refuses a time longer than 100 years, naming the field and the maximum', () => {
    const parsed = parseFallbackConfig(JSON.stringify({ afterAcceptance: { message: 'P99999999D', cancellation: 'P36500D' } }));
    expect(parsed.ok ? [] : parsed.problems.map(formatProblem)).toEqual(['afterAcceptance.message: must be at most P36500D (100 years)']);
  });

  it('stops the start when SVU_FALLBACK_CONFIG is broken or missing, naming the variable and the field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'svu-fallback-config-')), 'fallback.json');
    writeFileSync(file, JSON.stringify({ afterAcceptance: { discharged: 'PT2X' } }));
    expect(() => loadConfig({ SVU_FALLBACK_CONFIG: file })).toThrow(new RegExp(`^fallback configuration ${file} \\(SVU_FALLBACK_CONFIG\\): afterAcceptance\\.discharged: [^\\n]+$`));
    expect(() => loadConfig({ SVU_FALLBACK_CONFIG: `${file}.missing` })).toThrow(`fallback configuration ${file}.missing (SVU_FALLBACK_CONFIG): missing`);
    writeFileSync(file, '{\n  "afterAcceptance": {\n    "discharged": "PT2H",\n  }\n}\n');
    expect(() => loadConfig({ SVU_FALLBACK_CONFIG: file })).toThrow(`fallback configuration ${file} (SVU_FALLBACK_CONFIG): not JSON: Expected double-quoted property name at line 4 column 3`);
  });

  it('reads the postal delay, one day by default', () => {
    expect(loadConfig({}).postalDelayMs).toBe(24 * H);
    expect(loadConfig({ SVU_POSTAL_DELAY: 'PT36H' }).postalDelayMs).toBe(36 * H);
    expect(() => loadConfig({ SVU_POSTAL_DELAY: 'tomorrow' })).toThrow(/SVU_POSTAL_DELAY/);
  });
});
