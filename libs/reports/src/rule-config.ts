import { createAjv, formatProblem, jsonSyntaxError, problemsFromAjv, problemsLine } from '@svu/canonical';
import { COUNTIES_LIST, municipality } from '@svu/municipalities';
import schema from '../../../schemas/report-rules.schema.json';

/** A precondition of the municipality's liability (docs/payment-liability.md). */
export type Precondition = 'admission-notice' | 'estimate' | 'ready-notice' | 'sip-called';
export const PRECONDITIONS: readonly Precondition[] = ['admission-notice', 'estimate', 'ready-notice', 'sip-called'];

/** One version of a rule set, in force from `from` to `to` (inclusive; open when absent). */
export interface RuleVersion {
  readonly from: string;
  readonly to?: string;
  readonly model: 'average' | 'streak' | 'per-patient' | 'no-figures';
  readonly note?: string;
  /** Day 0: the Swedish date the ready notice was sent (`sentAt`) or of the ready time it states (`readyAt`). */
  readonly dayZero?: 'sentAt' | 'readyAt';
  readonly preconditions?: readonly Precondition[];
  readonly scope?: 'all' | 'exclude-outpatient-only';
  readonly averageThresholdDays?: number;
  readonly perPatientLimitDays?: number;
  readonly longStaysLeaveAverage?: boolean;
  readonly targetAverageDays?: number;
  readonly failedMonthsInARow?: number;
  readonly goodMonthsToRecover?: number;
  readonly graceDays?: number;
}

export interface RuleSetConfig {
  readonly title: string;
  readonly source?: string;
  readonly versions: readonly RuleVersion[];
}

/** The rules file (schemas/report-rules.schema.json). */
export interface ReportRules {
  readonly note?: string;
  readonly default: string;
  readonly dayRates?: { readonly source: string; readonly perYear: Readonly<Record<string, number>> };
  readonly ruleSets: Readonly<Record<string, RuleSetConfig>>;
  readonly counties?: Readonly<Record<string, string>>;
  readonly municipalities?: Readonly<Record<string, string>>;
}

const ajv = createAjv({ removeUnknown: false });
const validate = ajv.compile<ReportRules>(schema);

/**
 * Parses and checks a rules file: the schema, then what a schema cannot say (rule-set names that
 * exist, counties and municipalities that exist, versions in order without overlap). A broken file
 * throws one error of one line, `<origin>: ` and the problems, each starting with the field (or where
 * the text stops being JSON).
 */
export function parseReportRules(text: string, origin = 'report rules'): ReportRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${origin}: ${jsonSyntaxError(text, error)}`);
  }
  if (!validate(json)) {
    const lines = problemsFromAjv(validate.errors ?? []).map(formatProblem);
    throw new Error(`${origin}: ${problemsLine(lines.length > 0 ? lines : [ajv.errorsText(validate.errors)])}`);
  }
  const rules = json;
  const problems: string[] = [];
  const known = (field: string, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(rules.ruleSets, name)) problems.push(`${field}: no rule set named ${JSON.stringify(name)}`);
  };
  known('default', rules.default);
  const countyCodes = new Set(COUNTIES_LIST.map((c) => c.code));
  for (const [code, name] of Object.entries(rules.counties ?? {})) {
    if (!countyCodes.has(code)) problems.push(`counties.${code}: not a county code`);
    known(`counties.${code}`, name);
  }
  for (const [code, name] of Object.entries(rules.municipalities ?? {})) {
    if (municipality(code) === undefined) problems.push(`municipalities.${code}: not a kommunkod`);
    known(`municipalities.${code}`, name);
  }
  for (const [name, set] of Object.entries(rules.ruleSets)) {
    set.versions.forEach((v, i) => {
      const at = `ruleSets.${name}.versions[${i}]`;
      if (v.to !== undefined && v.to < v.from) problems.push(`${at}.to: is before from`);
      const before = set.versions[i - 1];
      if (before !== undefined) {
        if (before.to === undefined || before.to >= v.from) problems.push(`${at}.from: overlaps the version before (give it a to before ${v.from})`);
      }
    });
  }
  if (problems.length > 0) throw new Error(`${origin}: ${problemsLine(problems)}`);
  return rules;
}

/** Which rule set applies to a municipality, and why. */
export interface RuleSetChoice {
  readonly name: string;
  readonly title: string;
  /** `municipality`: mapped by kommunkod; `county`: by its county; `default`: neither (the law's default unless configured otherwise). */
  readonly basis: 'municipality' | 'county' | 'default';
}

export function ruleSetFor(rules: ReportRules, code: string): RuleSetChoice {
  const own = (record: Readonly<Record<string, string>> | undefined, key: string) =>
    record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
  const known = municipality(code) !== undefined;
  const byMunicipality = known ? own(rules.municipalities, code) : undefined;
  const byCounty = known ? own(rules.counties, code.slice(0, 2)) : undefined;
  const name = byMunicipality ?? byCounty ?? rules.default;
  return { name, title: rules.ruleSets[name]!.title, basis: byMunicipality !== undefined ? 'municipality' : byCounty !== undefined ? 'county' : 'default' };
}

/** The version of a rule set in force on a Swedish date, if any. */
export function versionOn(set: RuleSetConfig, date: string): RuleVersion | undefined {
  return set.versions.find((v) => v.from <= date && (v.to === undefined || date <= v.to));
}

/** The day rate (kronor) of a year, if configured. */
export function dayRate(rules: ReportRules, year: string): number | undefined {
  const perYear = rules.dayRates?.perYear;
  return perYear !== undefined && Object.prototype.hasOwnProperty.call(perYear, year) ? perYear[year] : undefined;
}
