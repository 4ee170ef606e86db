export { calendarDaysBetween, dayZeroInForce, waitingDays, type ReadyNotice } from './waiting-days';
export { DEFAULT_RULE_SETS, liability, type EpisodeWait, type MonthLiability, type RuleSet } from './rule-sets';
export { BUCKETS, DEVIATION_KINDS, episodeRow, monthlyReport, reportsCsv, type EpisodeFacts, type EpisodeRow, type MonthlyReport, type NotificationOutcome } from './monthly';
export { toCsv, type CsvOptions } from './csv';
