/**
 * Payment-liability rule sets of the regional agreements (domain.md section 3). Every threshold is a
 * configuration value; the defaults below are the numbers the seeds give.
 */
export type RuleSet =
  | {
      /** Jönköping (seed 001): liability when the municipality's monthly average exceeds the threshold, and per patient above a number of days. */
      readonly kind: 'jonkoping';
      readonly averageThresholdDays: number;
      readonly perPatientThresholdDays: number;
    }
  | {
      /** Västerbotten (seed 002): average above target for some months in a row makes the following months liable until the average is met again long enough. */
      readonly kind: 'vasterbotten';
      readonly targetAverageDays: number;
      readonly failedMonthsInARow: number;
      readonly goodMonthsToRecover: number;
      /** Home within this many days carries no liability; otherwise liability from the day after. */
      readonly graceDays: number;
    }
  | {
      /** The law's default without an agreement: liability after a number of calendar days. */
      readonly kind: 'law';
      readonly graceDays: number;
    };

export const DEFAULT_RULE_SETS = {
  jonkoping: { kind: 'jonkoping', averageThresholdDays: 2.0, perPatientThresholdDays: 7 },
  vasterbotten: { kind: 'vasterbotten', targetAverageDays: 3, failedMonthsInARow: 3, goodMonthsToRecover: 3, graceDays: 1 },
  law: { kind: 'law', graceDays: 3 },
} as const satisfies Record<string, RuleSet>;

/** One discharged episode of a municipality in a month, for the liability rules. */
export interface EpisodeWait {
  readonly episodeId: string;
  readonly waitingDays: number;
  /** The delay was the region's doing (Västerbotten: no liability then). */
  readonly regionCaused?: boolean;
}

export interface MonthLiability {
  readonly month: string;
  readonly averageWaitingDays: number;
  /** Whether the municipality as a whole is liable this month (average rules). */
  readonly municipalityLiable: boolean;
  /** Liable days per episode. */
  readonly liableDays: Readonly<Record<string, number>>;
}

const average = (episodes: readonly EpisodeWait[]) =>
  episodes.length === 0 ? 0 : episodes.reduce((sum, e) => sum + e.waitingDays, 0) / episodes.length;

/**
 * Liable days of one municipality, month by month (months in order, `YYYY-MM`). Readings where the
 * seeds are ambiguous: Jönköping charges all waiting days of a month whose average is above the
 * threshold, and every waiting day of a patient above the per-patient threshold in any month;
 * Västerbotten's liability starts in the month after the failed months in a row and lasts until the
 * target has been met for the recovery months in a row, and in such a month a patient's days after the
 * grace days are liable unless the region caused the delay; the law's default makes every day after the
 * grace days liable.
 */
export function liability(rules: RuleSet, months: ReadonlyArray<{ month: string; episodes: readonly EpisodeWait[] }>): MonthLiability[] {
  let failedInARow = 0;
  let goodInARow = 0;
  let liablePeriod = false;
  return months.map(({ month, episodes }) => {
    const avg = average(episodes);
    const liableDays: Record<string, number> = {};
    let municipalityLiable = false;
    switch (rules.kind) {
      case 'jonkoping': {
        municipalityLiable = avg > rules.averageThresholdDays;
        for (const e of episodes) {
          const perPatient = e.waitingDays > rules.perPatientThresholdDays;
          liableDays[e.episodeId] = municipalityLiable || perPatient ? e.waitingDays : 0;
        }
        break;
      }
      case 'vasterbotten': {
        // This month is liable when the months before it brought the municipality into a liable period.
        municipalityLiable = liablePeriod;
        for (const e of episodes) {
          liableDays[e.episodeId] = municipalityLiable && e.regionCaused !== true ? Math.max(0, e.waitingDays - rules.graceDays) : 0;
        }
        const failed = avg > rules.targetAverageDays;
        failedInARow = failed ? failedInARow + 1 : 0;
        goodInARow = failed ? 0 : goodInARow + 1;
        if (!liablePeriod && failedInARow >= rules.failedMonthsInARow) liablePeriod = true;
        else if (liablePeriod && goodInARow >= rules.goodMonthsToRecover) liablePeriod = false;
        break;
      }
      case 'law': {
        for (const e of episodes) liableDays[e.episodeId] = Math.max(0, e.waitingDays - rules.graceDays);
        municipalityLiable = Object.values(liableDays).some((d) => d > 0);
        break;
      }
    }
    return { month, averageWaitingDays: Math.round(avg * 100) / 100, municipalityLiable, liableDays };
  });
}
