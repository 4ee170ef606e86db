export { calendarDaysBetween, dayZeroInForce, waitingDays, type ReadyNotice } from './waiting-days';
export { PRECONDITIONS, dayRate, parseReportRules, ruleSetFor, versionOn, type Precondition, type ReportRules, type RuleSetChoice, type RuleSetConfig, type RuleVersion } from './rule-config';
export {
  aggregate,
  classifyEpisode,
  dayZeroOf,
  episodeLiableDays,
  monthlyLiability,
  payer,
  preconditionFacts,
  type Delivery,
  type EpisodeLiability,
  type LiabilityFacts,
  type MonthAggregate,
  type MonthLiability,
  type PreconditionFact,
} from './rule-sets';
export { BUCKETS, DEVIATION_KINDS, episodesCsv, reportsCsv, type EpisodeCsvRow, type LiabilityPart, type MonthlyReport } from './monthly';
export { toCsv, type CsvOptions } from './csv';
