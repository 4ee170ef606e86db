import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  movedState,
  checkMove,
  checkTarget,
  COPY_STATES,
  eventOf,
  fromStates,
  IllegalTransition,
  LIFECYCLE_BEGIN,
  LIFECYCLE_END,
  lifecycleMermaid,
  lifecycleSection,
  mayMove,
  NEW,
  sqlStates,
  targetOf,
  toStates,
  TRANSITION_NAMES,
  TRANSITIONS,
  type CopyState,
  type TransitionName,
} from './copy-lifecycle';

/** Every (from, to) pair `name` allows, written out: the table must say exactly this. */
function allowed(name: TransitionName): string[] {
  const pairs: string[] = [];
  for (const from of [NEW, ...COPY_STATES] as const) for (const to of COPY_STATES) if (mayMove(name, from, to)) pairs.push(`${from}>${to}`);
  return pairs;
}

const EXPECTED: Record<TransitionName, { actor: string; moves: string[]; event: string | null; from: CopyState[] }> = {
  accept: { actor: 'ingress', moves: ['new>received'], event: 'received', from: [] },
  'accept-withheld': { actor: 'ingress', moves: ['new>cancelled'], event: 'cancelled', from: [] },
  cancel: { actor: 'ingress', moves: ['received>cancelled', 'routed>cancelled', 'retrying>cancelled'], event: 'cancelled', from: ['received', 'routed', 'retrying'] },
  withdraw: { actor: 'ingress', moves: ['dead-lettered>cancelled', 'manual>cancelled'], event: 'cancelled', from: ['dead-lettered', 'manual'] },
  acknowledge: {
    actor: 'ingress',
    moves: [
      'received>received',
      'routed>routed',
      'sending>sending',
      'retrying>retrying',
      'delivered>acknowledged',
      'acknowledged>acknowledged',
      'dead-lettered>dead-lettered',
      'cancelled>cancelled',
      'manual>manual',
    ],
    event: 'acknowledged',
    from: [...COPY_STATES],
  },
  route: { actor: 'router', moves: ['received>routed', 'received>manual'], event: null, from: ['received'] },
  'unknown-recipient': { actor: 'router', moves: ['received>dead-lettered'], event: 'dead-lettered', from: ['received'] },
  claim: { actor: 'egress', moves: ['routed>sending', 'retrying>sending'], event: 'sending', from: ['routed', 'retrying'] },
  deliver: { actor: 'egress', moves: ['sending>delivered', 'sending>acknowledged'], event: 'delivered', from: ['sending'] },
  retry: { actor: 'egress', moves: ['sending>retrying'], event: 'retrying', from: ['sending'] },
  fail: { actor: 'egress', moves: ['sending>dead-lettered'], event: 'dead-lettered', from: ['sending'] },
  expire: { actor: 'egress', moves: ['routed>dead-lettered', 'retrying>dead-lettered'], event: 'dead-lettered', from: ['routed', 'retrying'] },
  'take-over': { actor: 'sweeper', moves: ['sending>routed', 'sending>retrying'], event: null, from: ['sending'] },
  replay: { actor: 'console', moves: ['dead-lettered>received'], event: 'received', from: ['dead-lettered'] },
  'fall-back': { actor: 'deadlines', moves: COPY_STATES.map((s) => `${s}>${s}`), event: 'fallback', from: [...COPY_STATES] },
  'deliver-by-hand': { actor: 'console', moves: COPY_STATES.map((s) => `${s}>${s}`), event: 'delivered-by-hand', from: [...COPY_STATES] },
  'undo-deliver-by-hand': { actor: 'console', moves: COPY_STATES.map((s) => `${s}>${s}`), event: 'delivery-by-hand-undone', from: [...COPY_STATES] },
  'withdraw-document': { actor: 'ingress', moves: COPY_STATES.map((s) => `${s}>${s}`), event: 'cancelled', from: [...COPY_STATES] },
};

describe('copy lifecycle: each transition allows exactly its moves, by its actor, writing its history row', () => {
  it('has a test for every transition and no other', () => {
    expect([...TRANSITION_NAMES].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(TRANSITION_NAMES.map((name) => [name]))('%s', (name) => {
    const expected = EXPECTED[name];
    expect(TRANSITIONS[name].actor).toBe(expected.actor);
    const sortKey = (p: string) => [NEW, ...COPY_STATES].indexOf(p.split('>')[0] as CopyState) * 100 + COPY_STATES.indexOf(p.split('>')[1] as CopyState);
    expect(allowed(name)).toEqual([...expected.moves].sort((a, b) => sortKey(a) - sortKey(b)));
    expect(fromStates(name)).toEqual(expected.from);
    for (const to of toStates(name)) {
      if (expected.event === null && TRANSITIONS[name].event === 'to') expect(eventOf(name, to)).toBe(to);
      else expect(eventOf(name, to)).toBe(expected.event);
    }
    if (toStates(name).length === 0) expect(eventOf(name)).toBe(expected.event);
  });

  it('the router writes the state it routes to; the sweeper writes nothing when it takes a lease over', () => {
    expect(eventOf('route', 'routed')).toBe('routed');
    expect(eventOf('route', 'manual')).toBe('manual');
    expect(eventOf('take-over', 'routed')).toBeNull();
  });
});

describe('copy lifecycle: illegal moves are refused', () => {
  it.each([
    ['claim', 'received', 'sending'],
    ['claim', 'sending', 'sending'],
    ['deliver', 'cancelled', 'delivered'],
    ['deliver', 'retrying', 'delivered'],
    ['cancel', 'sending', 'cancelled'],
    ['cancel', 'delivered', 'cancelled'],
    ['route', 'routed', 'routed'],
    ['route', 'received', 'sending'],
    ['replay', 'delivered', 'received'],
    ['replay', 'cancelled', 'received'],
    ['take-over', 'routed', 'retrying'],
    ['withdraw', 'sending', 'cancelled'],
    ['acknowledge', 'sending', 'acknowledged'],
    ['accept', 'received', 'received'],
    ['fall-back', 'manual', 'cancelled'],
    ['undo-deliver-by-hand', 'delivered', 'manual'],
    ['undo-deliver-by-hand', 'manual', 'received'],
  ] as const)('%s may not move a copy from %s to %s', (name, from, to) => {
    expect(mayMove(name, from, to)).toBe(false);
    expect(() => checkMove(name, from, to)).toThrow(IllegalTransition);
    expect(() => checkMove(name, from, to)).toThrow(`${name} may not move a copy from ${from} to ${to}`);
  });

  it('a target a transition never moves to is refused; a transition with several targets has no single one', () => {
    expect(() => checkTarget('route', 'dead-lettered')).toThrow(IllegalTransition);
    expect(() => checkTarget('route', 'manual')).not.toThrow();
    expect(targetOf('claim')).toBe('sending');
    expect(() => targetOf('route')).toThrow(IllegalTransition);
    expect(() => targetOf('fall-back')).toThrow(IllegalTransition);
  });

  it('no state is a dead end but the settled ones, and every state can be reached', () => {
    const reached = new Set(TRANSITION_NAMES.flatMap((n) => toStates(n)));
    expect(COPY_STATES.filter((s) => !reached.has(s))).toEqual([]);
    const left = new Set<string>(TRANSITION_NAMES.flatMap((n) => TRANSITIONS[n].moves.map(([from]) => from)));
    expect(COPY_STATES.filter((s) => !left.has(s))).toEqual(['acknowledged', 'cancelled']);
  });

  it('writes states into SQL only as fixed words', () => {
    expect(sqlStates(['routed', 'retrying'])).toBe("'routed', 'retrying'");
    expect(() => sqlStates(["x'; DROP TABLE copies; --"])).toThrow('not a copy state');
  });
});

describe('docs/architecture.md', () => {
  it('shows the lifecycle as generated from the table (npm run generate)', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/architecture.md'), 'utf8');
    const begin = doc.indexOf(LIFECYCLE_BEGIN);
    const end = doc.indexOf(LIFECYCLE_END);
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(doc.slice(begin, end + LIFECYCLE_END.length)).toBe(lifecycleSection());
  });

  it('draws every move of the table', () => {
    const diagram = lifecycleMermaid();
    expect(diagram).toContain('routed --> sending : egress claim');
    expect(diagram).toContain('[*] --> received : ingress accept');
    expect(diagram).toContain('dead_lettered --> received : console replay');
    const moves = TRANSITION_NAMES.reduce((n, name) => n + TRANSITIONS[name].moves.length, 0);
    expect(diagram.split('\n').filter((l) => l.includes('-->'))).toHaveLength(moves);
  });
});

describe('movedState', () => {
  it('writes each move of a transition and keeps the other states', () => {
    expect(movedState('acknowledge')).toBe("CASE WHEN state = 'delivered' THEN 'acknowledged' ELSE state END");
    // A transition whose moves leave the new state open (the router's: routed or manual) has none.
    expect(() => movedState('route')).toThrow(/one new state per state/);
    expect(() => movedState('fall-back')).toThrow(/one new state per state/);
  });
});
