/**
 * npm run bench:translate — translation speed against the raw fast-xml-parser work on the same
 * documents, measured in the same run, and memory over 100,000 translations.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { decodeDocument, translate, type WireDialect } from '@svu/dialects';
import { exampleBytes, MESSAGE_TYPES } from '../test/fixtures/contract-examples';
import { bestRate, fmt, machine, mib } from './bench-util';

// The baseline is the plain library round trip (docs/benchmarks.md, translation): default options,
// parse the document, build it again.
const xmlParser = new XMLParser({ ignoreAttributes: false });
const xmlBuilder = new XMLBuilder({ ignoreAttributes: false, format: true, indentBy: '  ' });

const ROUTES: ReadonlyArray<[WireDialect, WireDialect]> = [
  ['lifecare', 'samsa'],
  ['webcare', 'lifecare'],
  ['samsa', 'webcare'],
];
const COUNT = Number(process.env['BENCH_COUNT'] ?? 20_000);
const TARGET_RATIO = 0.5;

/** The XML documents of a route: the source when it is XML, else the target. */
function xmlSide(from: WireDialect, to: WireDialect): WireDialect {
  return from === 'samsa' ? to : from;
}

/** Raw fast-xml-parser parse+build of the same XML documents the route reads or writes. */
function rawWork(from: WireDialect, to: WireDialect) {
  const side = xmlSide(from, to);
  const documents = MESSAGE_TYPES.map((type) => exampleBytes(type, side));
  return (i: number) => {
    const text = decodeDocument(side, documents[i % documents.length]!);
    if (text === undefined) throw new Error(`example ${i % documents.length} is not ${side} text`);
    xmlBuilder.build(xmlParser.parse(text));
  };
}

function ourWork(from: WireDialect, to: WireDialect) {
  const sources = MESSAGE_TYPES.map((type) => exampleBytes(type, from));
  return (i: number) => {
    const result = translate(from, to, sources[i % sources.length]!);
    if (!result.ok) throw new Error(`example ${i % sources.length} did not translate`);
  };
}

function memoryOver(total: number): { start: number; end: number; peak: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  const work = ROUTES.map(([from, to]) => ourWork(from, to));
  const sample = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const start = sample();
  let peak = start;
  let end = start;
  for (let i = 0; i < total; i++) {
    work[i % work.length]!(i);
    if ((i + 1) % 10_000 === 0) {
      end = sample();
      peak = Math.max(peak, end);
    }
  }
  return { start, end, peak };
}

function main(): void {
  console.log(`# bench:translate — ${machine()}`);
  console.log(`${fmt(COUNT)} messages per route, the nine contract examples in turn; best of 3 runs\n`);
  console.log('route                 ours msg/s   raw parse+build msg/s   ratio   target   (raw: fast-xml-parser on the route\'s XML documents)');
  let failed = false;
  for (const [from, to] of ROUTES) {
    const raw = bestRate(3, COUNT, rawWork(from, to));
    const ours = bestRate(3, COUNT, ourWork(from, to));
    const ratio = ours / raw;
    failed ||= ratio < TARGET_RATIO;
    console.log(
      `${`${from} → ${to}`.padEnd(20)} ${fmt(ours).padStart(12)} ${fmt(raw).padStart(23)} ${fmt(ratio, 2).padStart(7)}   ≥ ${TARGET_RATIO} ${ratio >= TARGET_RATIO ? 'ok' : 'MISSED'}`,
    );
  }
  const memory = memoryOver(100_000);
  const growth = memory.end - memory.start;
  console.log(
    `\nheap over 100,000 translations (after GC, every 10,000): start ${mib(memory.start)}, end ${mib(memory.end)}, peak ${mib(memory.peak)}, growth ${mib(growth)}`,
  );
  if (!(globalThis as { gc?: () => void }).gc) console.log('(run with --expose-gc for exact heap figures)');
  if (failed) process.exitCode = 1;
}

main();
