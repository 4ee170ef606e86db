import { XMLBuilder } from 'fast-xml-parser';

export interface CaseResult {
  readonly suite: string;
  readonly name: string;
  readonly seconds: number;
  /** Undefined when the case passed. */
  readonly failure?: { readonly message: string; readonly details: string };
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@', format: true, indentBy: '  ', suppressEmptyNode: true });

/** JUnit XML (the Ant/Surefire form that CI systems display): one test suite per fixture set. */
export function junitXml(results: readonly CaseResult[]): string {
  const suites = [...new Set(results.map((r) => r.suite))].map((suite) => {
    const cases = results.filter((r) => r.suite === suite);
    return {
      '@name': suite,
      '@tests': String(cases.length),
      '@failures': String(cases.filter((c) => c.failure !== undefined).length),
      '@errors': '0',
      '@time': cases.reduce((t, c) => t + c.seconds, 0).toFixed(3),
      testcase: cases.map((c) => ({
        '@classname': suite,
        '@name': c.name,
        '@time': c.seconds.toFixed(3),
        ...(c.failure === undefined ? {} : { failure: { '@message': c.failure.message, '@type': 'ExpectationFailed', '#text': c.failure.details } }),
      })),
    };
  });
  const failures = results.filter((r) => r.failure !== undefined).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ testsuites: { '@name': 'svu replay', '@tests': String(results.length), '@failures': String(failures), testsuite: suites } })}`;
}
