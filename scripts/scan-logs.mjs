// Scans log files for personal identity numbers and patient names (docs/rules.md, rule 7): any hit is printed
// (masked) with its line number and the scan exits 1. Used by .ci/run on everything the test suites logged.
import { readFileSync } from 'node:fs';

// 12 digits (YYYYMMDDNNNC) or 10 (YYMMDDNNNC), with or without - or + before the last four, wherever
// they stand (inside an id too); birth month 01-12 and day 01-91 (samordningsnummer add 60), so that
// organisation numbers, HSA ids and times do not match.
const IDENTITY = /(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[1-8]\d|9[01])[-+]?\d{4}(?!\d)/g;
// Names of the test patients in the contract examples and fixture sets.
const NAMES = ['Karin', 'Öberg', 'Áilu', 'Ŋuorra'];

let hits = 0;
for (const file of process.argv.slice(2)) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    // Only structured log lines are logs; test-runner output (titles, diffs) is not.
    if (!line.startsWith('{"level"')) return;
    const found = [...(line.match(IDENTITY) ?? []), ...NAMES.filter((name) => line.includes(name))];
    for (const value of found) {
      hits += 1;
      console.log(`${file}:${i + 1}: ${value.slice(0, 2)}${'*'.repeat(Math.max(0, value.length - 2))} in a log line`);
    }
  });
}
console.log(hits === 0 ? 'log scan: no identity numbers or patient names in logs' : `log scan: ${hits} finding(s)`);
process.exit(hits === 0 ? 0 : 1);
