import { DEFAULT_RULE_SETS, dayZeroInForce, liability, waitingDays, type EpisodeWait } from './index';

const ep = (episodeId: string, days: number, regionCaused = false): EpisodeWait => ({ episodeId, waitingDays: days, regionCaused });
const days = (result: ReturnType<typeof liability>) => result.map((m) => Object.values(m.liableDays));

describe('waiting days after ready-for-discharge (day 0 not counted)', () => {
  it('counts calendar days after day 0 up to the Swedish date of discharge', () => {
    expect(waitingDays('2026-07-01', '2026-07-04T09:00:00Z')).toBe(3);
    expect(waitingDays('2026-07-01', '2026-07-01T15:00:00Z')).toBe(0);
  });
  it('uses Swedish dates across the spring change and at month ends', () => {
    // Discharged 22:30 UTC on 31 March is 00:30 on 1 April in Swedish summer time.
    expect(waitingDays('2026-03-28', '2026-03-31T22:30:00Z')).toBe(4);
    // 23:30 UTC on 31 January is already 1 February in Sweden: an episode spanning the month end.
    expect(waitingDays('2026-01-30', '2026-01-31T23:30:00Z')).toBe(2);
  });
  it('takes day 0 from the latest ready notice that was not cancelled', () => {
    const notices = [
      { messageId: 'R1', sentAt: '2026-07-01T08:00:00Z', cancelled: false },
      { messageId: 'R2', sentAt: '2026-07-03T08:00:00Z', cancelled: true },
    ];
    expect(dayZeroInForce(notices)).toBe('2026-07-01');
    expect(dayZeroInForce([...notices, { messageId: 'R3', sentAt: '2026-07-02T22:30:00Z', cancelled: false }])).toBe('2026-07-03');
    expect(dayZeroInForce([])).toBeUndefined();
  });
});

describe('Jönköping: monthly average above 2.0, or one patient above 7 days', () => {
  it('makes every waiting day of a month liable when the average is above the threshold', () => {
    const result = liability(DEFAULT_RULE_SETS.jonkoping, [
      { month: '2026-01', episodes: [ep('a', 1), ep('b', 2), ep('c', 2)] }, // average 1.67
      { month: '2026-02', episodes: [ep('d', 0), ep('e', 1), ep('f', 8)] }, // average 3.0
    ]);
    expect(result.map((m) => [m.averageWaitingDays, m.municipalityLiable])).toEqual([[1.67, false], [3, true]]);
    expect(days(result)).toEqual([[0, 0, 0], [0, 1, 8]]);
  });
  it('makes a patient above 7 days liable in a month whose average is within the threshold', () => {
    const [month] = liability(DEFAULT_RULE_SETS.jonkoping, [{ month: '2026-03', episodes: [ep('a', 0), ep('b', 0), ep('c', 0), ep('d', 0), ep('e', 9)] }]);
    expect(month).toMatchObject({ averageWaitingDays: 1.8, municipalityLiable: false, liableDays: { a: 0, b: 0, c: 0, d: 0, e: 9 } });
  });
});

describe('Västerbotten: three failed months in a row, liability from the fourth until three good months', () => {
  it('follows the months, charges from day 2, and not for a delay the region caused', () => {
    const result = liability(DEFAULT_RULE_SETS.vasterbotten, [
      { month: '2026-01', episodes: [ep('j', 4)] },
      { month: '2026-02', episodes: [ep('f', 5)] },
      { month: '2026-03', episodes: [ep('m1', 3), ep('m2', 4)] }, // average 3.5: third failed month
      { month: '2026-04', episodes: [ep('a1', 2), ep('a2', 1), ep('a3', 3, true)] }, // liable month, average 2
      { month: '2026-05', episodes: [ep('y', 1)] },
      { month: '2026-06', episodes: [ep('u1', 3), ep('u2', 3)] }, // third good month (3 is not above 3): still liable
      { month: '2026-07', episodes: [ep('l', 5)] }, // no longer liable
    ]);
    expect(result.map((m) => m.municipalityLiable)).toEqual([false, false, false, true, true, true, false]);
    expect(days(result)).toEqual([[0], [0], [0, 0], [1, 0, 0], [0], [2, 2], [0]]);
  });
});

describe("the law's default: liability after three calendar days", () => {
  it('charges each patient the days after the third', () => {
    const [month] = liability(DEFAULT_RULE_SETS.law, [{ month: '2026-05', episodes: [ep('a', 2), ep('b', 3), ep('c', 4), ep('d', 10)] }]);
    expect(Object.values(month!.liableDays)).toEqual([0, 0, 1, 7]);
  });
  it('takes its thresholds from configuration, not from code', () => {
    const [month] = liability({ kind: 'law', graceDays: 5 }, [{ month: '2026-05', episodes: [ep('d', 10)] }]);
    expect(month!.liableDays).toEqual({ d: 5 });
  });
});
