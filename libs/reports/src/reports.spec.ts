import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  aggregate,
  classifyEpisode,
  dayZeroInForce,
  episodeLiableDays,
  monthlyLiability,
  parseReportRules,
  ruleSetFor,
  versionOn,
  waitingDays,
  type LiabilityFacts,
  type ReportRules,
  type RuleVersion,
} from './index';

const rules = parseReportRules(readFileSync(join(__dirname, '../../../config/report-rules.json'), 'utf8'));
const JONKOPING = rules.ruleSets['jonkoping']!.versions[0]!;
const VASTERBOTTEN = rules.ruleSets['vasterbotten']!.versions[0]!;
const LAW = rules.ruleSets['law']!.versions[0]!;
const RATES: Pick<ReportRules, 'dayRates'> = { dayRates: { source: 'test', perYear: { '2025': 9000, '2026': 10000 } } };

const delivered = (messageId: string, at: string, via: 'electronic' | 'fax' | 'letter' = 'electronic') => ({ messageId, delivery: { messageId, recipientHsa: 'SE2120000006-K1', at, via } });

/**
 * An episode whose every precondition holds: admitted and notified (with the estimate) on 1 May,
 * ready on `readyDay` 10:00 UTC, SIP called, home `days` days later at 11:00 UTC.
 */
function episode(id: string, days: number, overrides: Partial<LiabilityFacts> = {}, readyDay = '2026-05-10'): LiabilityFacts {
  const readyAt = `${readyDay}T10:00:00Z`;
  const home = new Date(Date.parse(`${readyDay}T11:00:00Z`) + days * 86_400_000).toISOString().slice(0, 19) + 'Z';
  return {
    episodeId: id,
    registrationMunicipality: '0680',
    placingMunicipality: null,
    dischargedAt: home,
    ready: { messageId: `${id}-R`, sentAt: readyAt, readyAt, delivery: delivered(`${id}-R`, readyAt).delivery },
    admission: delivered(`${id}-A`, '2026-05-01T08:00:00Z'),
    estimate: delivered(`${id}-A`, '2026-05-01T08:00:00Z'),
    sipRequired: true,
    sip: delivered(`${id}-S`, '2026-05-03T08:00:00Z'),
    outpatientOnly: false,
    regionCaused: false,
    ...overrides,
  };
}

/** Liability of one month under one version, as the store computes it from aggregates. */
function month(version: RuleVersion, facts: readonly LiabilityFacts[], name = '2026-05') {
  const classified = facts.map((f) => classifyEpisode(f, version));
  const [result] = monthlyLiability(version, [{ month: name, aggregate: aggregate(classified, version) }], RATES);
  const perEpisode = Object.fromEntries(classified.map((e) => [e.episodeId, episodeLiableDays(e, version, result)]));
  return { result: result!, perEpisode, classified };
}

describe('waiting days after ready-for-discharge (day 0 not counted)', () => {
  it('counts calendar days after day 0 up to the Swedish date of discharge', () => {
    expect(waitingDays('2026-07-01', '2026-07-04T09:00:00Z')).toBe(3);
    expect(waitingDays('2026-07-01', '2026-07-01T15:00:00Z')).toBe(0);
    expect(waitingDays('2026-03-28', '2026-03-31T22:30:00Z')).toBe(4);
  });
  it('takes day 0 from the first ready notice that was not cancelled: a later one does not move it', () => {
    const resent = [
      { messageId: 'R2', sentAt: '2026-07-03T08:00:00Z', cancelled: false },
      { messageId: 'R1', sentAt: '2026-07-01T08:00:00Z', cancelled: false },
    ];
    expect(dayZeroInForce(resent)).toBe('2026-07-01');
    const firstCancelled = [
      { messageId: 'R1', sentAt: '2026-07-01T08:00:00Z', cancelled: true },
      { messageId: 'R2', sentAt: '2026-07-03T08:00:00Z', cancelled: false },
      { messageId: 'R3', sentAt: '2026-07-05T08:00:00Z', cancelled: false },
    ];
    expect(dayZeroInForce(firstCancelled)).toBe('2026-07-03');
    expect(dayZeroInForce([{ messageId: 'R1', sentAt: '2026-07-01T08:00:00Z', cancelled: true }])).toBeUndefined();
  });
});

describe('Jönköping (agreement [001]): preconditions, scope, average above 2.0, more than 7 days individually', () => {
  it('charges 0 for a patient who waited 9 days whose admission notice was never delivered, and says why', () => {
    const { result, perEpisode, classified } = month(JONKOPING, [episode('p9', 9, { admission: { messageId: 'p9-A', delivery: null } })]);
    expect(perEpisode).toEqual({ p9: 0 });
    expect(result).toMatchObject({ liableDays: 0, liableKronor: 0 });
    expect(classified[0]!.exclusion).toBe('precondition not met: admission-notice (admission notice p9-A never delivered to a municipal recipient)');
    expect(classified[0]!.preconditions.find((p) => p.precondition === 'admission-notice')).toMatchObject({ required: true, met: false, messageId: 'p9-A', deliveredAt: null });
  });

  it('five patients waiting 0, 1, 1, 2 and 9 days: 9 days (the others average 1.0); 13 when long stays stay in the average', () => {
    const five = [episode('a', 0), episode('b', 1), episode('c', 1), episode('d', 2), episode('e', 9)];
    // | patient | days | the agreement's reading (leave the average) | long stays stay in the average |
    // | a..d    | 0,1,1,2 | average 4/4 = 1.0 ≤ 2.0: 0    | average 13/5 = 2.6 > 2.0: 0+1+1+2 |
    // | e       | 9    | > 7: 9 individually              | 9                                 |
    // | total   |      | 9 days = 90,000 kr               | 13 days = 130,000 kr              |
    const seed = month(JONKOPING, five);
    expect(seed.perEpisode).toEqual({ a: 0, b: 0, c: 0, d: 0, e: 9 });
    expect(seed.result).toMatchObject({ averageWaitingDays: 1, municipalityLiable: false, liableDays: 9, dayRate: 10000, liableKronor: 90000 });
    expect(seed.result.reason).toBe('average 1.00 days over 4 patient(s) within 2: not liable; 1 patient(s) over 7 days charged individually (9 days, outside the average)');
    const stay = month({ ...JONKOPING, longStaysLeaveAverage: false }, five);
    expect(stay.perEpisode).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 9 });
    expect(stay.result).toMatchObject({ averageWaitingDays: 2.6, municipalityLiable: true, liableDays: 13, liableKronor: 130000 });
  });

  it('each precondition failing alone makes that episode 0 and leaves it out of the average', () => {
    // Three patients of 3 days each: average 3.0 > 2.0, all 9 days liable. One failing precondition
    // takes that patient out: 2 patients, 6 days.
    const failing: Record<string, Partial<LiabilityFacts>> = {
      'admission-notice': { admission: null },
      estimate: { estimate: { messageId: 'x-E', delivery: null } },
      'ready-notice': { ready: { messageId: 'x-R', sentAt: '2026-05-10T10:00:00Z', readyAt: '2026-05-10T10:00:00Z', delivery: null } },
      'sip-called': { sip: null },
    };
    const all = month(JONKOPING, [episode('x', 3), episode('y', 3), episode('z', 3)]);
    expect(all.result).toMatchObject({ liableDays: 9, liableKronor: 90000 });
    for (const [precondition, broken] of Object.entries(failing)) {
      const { result, perEpisode, classified } = month(JONKOPING, [episode('x', 3, broken), episode('y', 3), episode('z', 3)]);
      expect({ precondition, perEpisode, liableDays: result.liableDays, kronor: result.liableKronor }).toEqual({ precondition, perEpisode: { x: 0, y: 3, z: 3 }, liableDays: 6, kronor: 60000 });
      const failed = classified[0]!.preconditions.filter((p) => !p.met).map((p) => p.precondition);
      expect(failed).toEqual([precondition]);
      expect(classified[0]!.exclusion).toContain(`precondition not met: ${precondition} (`);
    }
  });

  it('a notice delivered only after discharge does not meet the precondition; one delivered by hand (fax) does', () => {
    const late = episode('late', 3, { admission: delivered('late-A', '2026-05-20T08:00:00Z') });
    const byFax = episode('fax', 3, { admission: delivered('fax-A', '2026-05-02T08:00:00Z', 'fax') });
    const { classified } = month(JONKOPING, [late, byFax]);
    expect(classified[0]!.preconditions[0]).toMatchObject({ met: false, detail: expect.stringContaining('only after discharge') });
    expect(classified[1]!.preconditions[0]).toMatchObject({ met: true, via: 'fax', deliveredAt: '2026-05-02T08:00:00Z', detail: expect.stringContaining('by hand (fax)') });
    expect(classified[1]!.counted).toBe(true);
  });

  it('a SIP not to be held (no outpatient and municipal recipients both) does not block liability', () => {
    const { classified, perEpisode } = month(JONKOPING, [episode('n', 9, { sipRequired: false, sip: null })]);
    expect(classified[0]!.preconditions[3]).toMatchObject({ precondition: 'sip-called', met: true });
    expect(perEpisode).toEqual({ n: 9 });
  });

  it('leaves out an episode whose needs after discharge are only region outpatient care (Jönköping only)', () => {
    const facts = [episode('o', 9, { outpatientOnly: true }), episode('m', 1)];
    const j = month(JONKOPING, facts);
    expect(j.perEpisode).toEqual({ o: 0, m: 0 });
    expect(j.classified[0]!.exclusion).toBe('out of scope: after discharge only region outpatient care');
    expect(j.result).toMatchObject({ liableDays: 0 });
    // The law's default has no such scope: 9 - 3 = 6 days.
    expect(month(LAW, facts).perEpisode).toEqual({ o: 6, m: 0 });
  });
});

describe('Västerbotten (agreement [002]): calendar-month streaks from readyAt', () => {
  const monthOf = (waits: number[], name: string) => {
    const facts = waits.map((d, i) => episode(`${name}-${i}`, d, {}, `${name}-10`));
    return { month: name, aggregate: aggregate(facts.map((f) => classifyEpisode(f, VASTERBOTTEN)), VASTERBOTTEN) };
  };

  it('Oct 4, Nov 5, Dec none, Jan 4, Feb 3: a month without discharges breaks the streak, February is not liable', () => {
    const result = monthlyLiability(VASTERBOTTEN, [monthOf([4], '2025-10'), monthOf([5], '2025-11'), monthOf([], '2025-12'), monthOf([4], '2026-01'), monthOf([3], '2026-02')], RATES);
    expect(result.map((m) => [m.month, m.averageWaitingDays, m.municipalityLiable, m.liableDays])).toEqual([
      ['2025-10', 4, false, 0],
      ['2025-11', 5, false, 0],
      ['2025-12', null, false, 0],
      ['2026-01', 4, false, 0],
      ['2026-02', 3, false, 0],
    ]);
    expect(result[2]!.reason).toContain('no discharges (does not fail)');
  });

  it('three failed months make the fourth liable from day 2 (none where the region caused it), until three good months in a row', () => {
    const region = (name: string) => ({ month: name, aggregate: aggregate([classifyEpisode(episode(`${name}-r`, 4, { regionCaused: true }, `${name}-10`), VASTERBOTTEN), classifyEpisode(episode(`${name}-m`, 2, {}, `${name}-10`), VASTERBOTTEN)], VASTERBOTTEN) });
    const result = monthlyLiability(VASTERBOTTEN, [monthOf([4], '2026-01'), monthOf([5], '2026-02'), monthOf([4, 3], '2026-03'), region('2026-04'), monthOf([1], '2026-05'), monthOf([3, 3], '2026-06'), monthOf([5], '2026-07')], RATES);
    // | month | average | liable | liable days (after day 1, none where the region caused it) | kronor |
    // | Apr   | 3 (good)| yes    | region-caused 4 → 0, municipality 2 → 1                     | 10,000 |
    // | May   | 1       | yes    | 1 → 0                                                       | 0      |
    // | Jun   | 3       | yes    | 3 → 2, 3 → 2 = 4 (third good month: liable until its end)   | 40,000 |
    // | Jul   | 5       | no     | 0                                                           | 0      |
    expect(result.map((m) => [m.municipalityLiable, m.liableDays, m.liableKronor])).toEqual([
      [false, 0, 0], [false, 0, 0], [false, 0, 0], [true, 1, 10000], [true, 0, 0], [true, 4, 40000], [false, 0, 0],
    ]);
  });

  it('counts from the ready date (readyAt), not the date the notice was sent, across midnight', () => {
    // Ready at 23:30 Swedish time on 9 May (21:30 UTC), notice sent 00:30 on 10 May (22:30 UTC on the 9th), home 12 May.
    const f = episode('m', 0, { ready: { messageId: 'm-R', sentAt: '2026-05-09T22:30:00Z', readyAt: '2026-05-09T21:30:00Z', delivery: delivered('m-R', '2026-05-09T22:31:00Z').delivery }, dischargedAt: '2026-05-12T08:00:00Z' });
    expect(classifyEpisode(f, VASTERBOTTEN)).toMatchObject({ dayZero: '2026-05-09', waitingDays: 3 });
    expect(classifyEpisode(f, { ...VASTERBOTTEN, dayZero: 'sentAt' })).toMatchObject({ dayZero: '2026-05-10', waitingDays: 2 });
    expect(classifyEpisode(f, LAW)).toMatchObject({ dayZero: '2026-05-10', waitingDays: 2 });
  });
});

describe("the law's default, agreements without figures, municipalities and kronor", () => {
  it('charges each patient the days after the third, in kronor at the year’s day rate', () => {
    const { perEpisode, result } = month(LAW, [episode('a', 2), episode('b', 3), episode('c', 4), episode('d', 10)]);
    expect(perEpisode).toEqual({ a: 0, b: 0, c: 1, d: 7 });
    expect(result).toMatchObject({ liableDays: 8, dayRate: 10000, liableKronor: 80000 });
    const [noRate] = monthlyLiability(LAW, [{ month: '2027-05', aggregate: aggregate([classifyEpisode(episode('d', 10), LAW)], LAW) }], RATES);
    expect(noRate).toMatchObject({ liableDays: 7, liableKronor: null, reason: expect.stringContaining('no day rate configured for 2027') });
  });

  it('maps every municipality of Jönköping and Västerbotten counties, the three agreements without figures, and the rest to the law', () => {
    expect(ruleSetFor(rules, '0617')).toMatchObject({ name: 'jonkoping', basis: 'county' });
    expect(ruleSetFor(rules, '2418')).toMatchObject({ name: 'vasterbotten', basis: 'county' });
    expect(['1480', '1315', '0180'].map((m) => ruleSetFor(rules, m).name)).toEqual(['vastra-gotaland', 'halland', 'stockholm']);
    // Skåne has no agreement configured; 0199 is four digits of Stockholm county but no municipality.
    expect(ruleSetFor(rules, '1280')).toMatchObject({ name: 'law', basis: 'default' });
    expect(ruleSetFor(rules, '0199')).toMatchObject({ name: 'law', basis: 'default' });
    const [vgr] = monthlyLiability(rules.ruleSets['vastra-gotaland']!.versions[0]!, [{ month: '2026-05', aggregate: aggregate([classifyEpisode(episode('g', 9), rules.ruleSets['vastra-gotaland']!.versions[0])], rules.ruleSets['vastra-gotaland']!.versions[0]!) }], RATES);
    expect(vgr).toMatchObject({ averageWaitingDays: 9, liableDays: null, liableKronor: null, reason: 'agreement without figures: reported, not charged' });
  });

  it('the placing municipality pays when recorded; otherwise the registration municipality', () => {
    expect(classifyEpisode(episode('p', 3, { placingMunicipality: '2480' }), LAW)).toMatchObject({ municipality: '2480', municipalityBasis: 'placing' });
    expect(classifyEpisode(episode('r', 3), LAW)).toMatchObject({ municipality: '0680', municipalityBasis: 'registration' });
  });

  it('applies the version in force on the discharge date when an agreement changes mid-month', () => {
    const changing = parseReportRules(JSON.stringify({
      default: 'j',
      ruleSets: { j: { title: 'J', versions: [{ ...JONKOPING, from: '2018-03-01', to: '2026-05-14' }, { ...JONKOPING, from: '2026-05-15', averageThresholdDays: 3.0 }] } },
    }));
    const set = changing.ruleSets['j']!;
    expect(versionOn(set, '2026-05-14')!.averageThresholdDays).toBe(2);
    expect(versionOn(set, '2026-05-15')!.averageThresholdDays).toBe(3);
    expect(versionOn(set, '2018-02-28')).toBeUndefined();
    // Before the 15th: 3 and 2 days, average 2.5 > 2.0: 5 days. From the 15th: 3 and 2, average 2.5 ≤ 3.0: 0.
    const before = month(versionOn(set, '2026-05-14')!, [episode('a', 3, {}, '2026-05-05'), episode('b', 2, {}, '2026-05-05')]);
    const after = month(versionOn(set, '2026-05-20')!, [episode('c', 3, {}, '2026-05-20'), episode('d', 2, {}, '2026-05-20')]);
    expect([before.result.liableDays, after.result.liableDays]).toEqual([5, 0]);
    // No version in force: not counted, and said so.
    expect(classifyEpisode(episode('old', 3), undefined).exclusion).toBe('no version of the rule set in force on the discharge date');
  });
});

describe('the rules file', () => {
  const valid = JSON.parse(readFileSync(join(__dirname, '../../../config/report-rules.json'), 'utf8'));
  const broken = (change: (json: any) => void) => {
    const json = structuredClone(valid);
    change(json);
    return () => parseReportRules(JSON.stringify(json), 'rules.json');
  };
  it('refuses a broken file with a message naming the field', () => {
    expect(broken((j) => (j.ruleSets.jonkoping.versions[0].averageThresholdDays = 'two'))).toThrow(/ruleSets\.jonkoping\.versions\[0\]\.averageThresholdDays: must be a number/);
    expect(broken((j) => delete j.ruleSets.vasterbotten.versions[0].graceDays)).toThrow(/ruleSets\.vasterbotten\.versions\[0\]/);
    expect(broken((j) => (j.ruleSets.law.versions[0].dayZero = 'admittedAt'))).toThrow(/ruleSets\.law\.versions\[0\]\.dayZero/);
    expect(broken((j) => (j.counties['24'] = 'vasterbotn'))).toThrow(/counties\.24: no rule set named "vasterbotn"/);
    expect(broken((j) => (j.municipalities['0199'] = 'law'))).toThrow(/municipalities\.0199: not a kommunkod/);
    expect(broken((j) => j.ruleSets.jonkoping.versions.push({ ...j.ruleSets.jonkoping.versions[0], from: '2020-01-01' }))).toThrow(/ruleSets\.jonkoping\.versions\[1\]\.from: overlaps/);
    expect(() => parseReportRules('{', 'rules.json')).toThrow(/rules.json: not JSON/);
  });
  it('refuses in one line: the file, then each field, or where the text stops being JSON', () => {
    const twoFields = broken((j) => {
      j.ruleSets.jonkoping.versions[0].model = 'bogus';
      j.ruleSets.jonkoping.versions[0].averageThresholdDays = -1;
    });
    expect(twoFields).toThrow(
      new Error('rules.json: ruleSets.jonkoping.versions[0].model: unknown code "bogus" (allowed: average, streak, per-patient, no-figures); ruleSets.jonkoping.versions[0].averageThresholdDays: must be >= 0'),
    );
    expect(() => parseReportRules('{\n  "default": "law",\n  "ruleSets": {\n    "law": }\n}\n', 'rules.json')).toThrow(new Error("rules.json: not JSON: Unexpected token '}' at line 4 column 12"));
  });
  it('says where the agreements give no figure', () => {
    expect(valid.dayRates.source).toMatch(/^SAMPLE/);
    expect(rules.ruleSets['halland']!.versions[0]!.model).toBe('no-figures');
  });
});
