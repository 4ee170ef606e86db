/**
 * The copy lifecycle: every state a copy of a message may be in, and every move between them — which
 * service makes it, from which states to which, and which row it writes to the copy's history
 * (copy_events). Plain data and pure functions, no Nest and no SQL: the copies repository builds its
 * statements from these entries (their `state IN (…)` guards, their new states, their event names),
 * so a move that is not in this table cannot be written. docs/architecture.md shows it as a diagram
 * generated from this module (`npm run generate`; `npm run generate:check` and a unit test fail when
 * the diagram has drifted).
 */

/** The states a copy is in (copies.state). */
export const COPY_STATES = ['received', 'routed', 'sending', 'retrying', 'delivered', 'acknowledged', 'dead-lettered', 'cancelled', 'manual'] as const;

export type CopyState = (typeof COPY_STATES)[number];

/**
 * What a copy's history records (copy_events.state): each state it entered, and things that happen
 * beside its state: a fallback document made for it, its delivery by hand, and that delivery undone.
 */
export type CopyEvent = CopyState | 'fallback' | 'delivered-by-hand' | 'delivery-by-hand-undone';

/** The service (or console user) that makes a move. */
export type Actor = 'ingress' | 'router' | 'egress' | 'sweeper' | 'deadlines' | 'console';

/** A copy's start: it enters the lifecycle when ingress stores its message. */
export const NEW = 'new' as const;

export interface Transition {
  readonly actor: Actor;
  /** What happens, for the diagram and the errors. */
  readonly summary: string;
  /** The moves it makes: from a state (or NEW) to a state. */
  readonly moves: ReadonlyArray<readonly [CopyState | typeof NEW, CopyState]>;
  /** States in which it writes its event and leaves the state as it is. */
  readonly keeps: readonly CopyState[];
  /** The history row it writes: an event, `'to'` for the state moved to, or null for none. */
  readonly event: CopyEvent | 'to' | null;
}

const ALL: readonly CopyState[] = COPY_STATES;

/** Every move a copy may make. Nothing writes a copy's state but through one of these. */
export const TRANSITIONS = {
  /** A message is stored with one copy per recipient. */
  accept: { actor: 'ingress', summary: 'message stored', moves: [[NEW, 'received']], keeps: [], event: 'to' },
  /**
   * docs/rules.md, rule 5: the copy of a cancellation to a recipient whose copy of the cancelled
   * message was cancelled before it went out is stored cancelled (never sent).
   */
  'accept-withheld': { actor: 'ingress', summary: 'cancellation withheld', moves: [[NEW, 'cancelled']], keeps: [], event: 'to' },
  /** docs/rules.md, rule 5: a cancellation cancels the copies of the cancelled message not yet on their way. */
  cancel: {
    actor: 'ingress',
    summary: 'cancelled before sending',
    moves: [['received', 'cancelled'], ['routed', 'cancelled'], ['retrying', 'cancelled']],
    keeps: [],
    event: 'cancelled',
  },
  /**
   * A cancellation also cancels the copies that only a fallback document would have delivered (no
   * electronic route, unknown recipient, retries exhausted) and that were not delivered by hand.
   */
  withdraw: { actor: 'ingress', summary: 'cancelled, document withdrawn', moves: [['manual', 'cancelled'], ['dead-lettered', 'cancelled']], keeps: [], event: 'cancelled' },
  /**
   * docs/rules.md, rule 6: an acknowledgement marks the copy it acknowledges; a delivered copy becomes
   * acknowledged, a copy in any other state keeps its state (a copy still being sent becomes
   * acknowledged when its delivery is recorded).
   */
  acknowledge: {
    actor: 'ingress',
    summary: 'acknowledged',
    moves: [['delivered', 'acknowledged']],
    keeps: ALL.filter((s) => s !== 'delivered'),
    event: 'acknowledged',
  },
  /** The router translates the copy for its recipient: routed, or manual when the recipient has no electronic route. */
  route: { actor: 'router', summary: 'routed', moves: [['received', 'routed'], ['received', 'manual']], keeps: [], event: 'to' },
  /** docs/rules.md (unit directory): a recipient missing from the directory. */
  'unknown-recipient': { actor: 'router', summary: 'unknown recipient', moves: [['received', 'dead-lettered']], keeps: [], event: 'dead-lettered' },
  /** Egress claims the copy for an attempt (a lease). */
  claim: { actor: 'egress', summary: 'claimed', moves: [['routed', 'sending'], ['retrying', 'sending']], keeps: [], event: 'sending' },
  /**
   * The attempt delivered the copy: delivered, or acknowledged when its acknowledgement came first.
   * Only while the copy is still being sent by that attempt: once the sweeper has taken its lease
   * over, the copy is sent again and the late outcome is not recorded over it.
   */
  deliver: { actor: 'egress', summary: 'delivered', moves: [['sending', 'delivered'], ['sending', 'acknowledged']], keeps: [], event: 'delivered' },
  /** The attempt failed and the copy may be tried again (within its retry budget). */
  retry: { actor: 'egress', summary: 'failed, will retry', moves: [['sending', 'retrying']], keeps: [], event: 'retrying' },
  /** The attempt failed for good (refused, or the retry budget spent). */
  fail: { actor: 'egress', summary: 'failed for good', moves: [['sending', 'dead-lettered']], keeps: [], event: 'dead-lettered' },
  /** Copies of a failing recipient still waiting when their retry budget has run out. */
  expire: { actor: 'egress', summary: 'retry budget spent', moves: [['routed', 'dead-lettered'], ['retrying', 'dead-lettered']], keeps: [], event: 'dead-lettered' },
  /** The sweeper opens the attempt of a process that stopped (lease run out): no history row, the next claim writes one. */
  'take-over': { actor: 'sweeper', summary: 'lease taken over', moves: [['sending', 'routed'], ['sending', 'retrying']], keeps: [], event: null },
  /** An operator replays a copy that could not be delivered: it is routed and sent again. */
  replay: { actor: 'console', summary: 'replayed', moves: [['dead-lettered', 'received']], keeps: [], event: 'received' },
  /** The deadline watcher made a fallback document for the copy (fax or letter). */
  'fall-back': { actor: 'deadlines', summary: 'fallback document made', moves: [], keeps: ALL, event: 'fallback' },
  /** An operator marked the copy's fallback document sent: delivered by hand. */
  'deliver-by-hand': { actor: 'console', summary: 'delivered by hand', moves: [], keeps: ALL, event: 'delivered-by-hand' },
  /**
   * An operator undid marking the copy's fallback document sent (within the undo window): the copy is
   * no longer delivered by hand; its state was never changed by `deliver-by-hand` and stays as it is.
   */
  'undo-deliver-by-hand': { actor: 'console', summary: 'delivery by hand undone', moves: [], keeps: ALL, event: 'delivery-by-hand-undone' },
  /** A cancellation withdrew the copy's fallback document before it was sent. */
  'withdraw-document': { actor: 'ingress', summary: 'document withdrawn', moves: [], keeps: ALL, event: 'cancelled' },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;

export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

/** A move the lifecycle does not allow. */
export class IllegalTransition extends Error {
  constructor(
    readonly transition: string,
    readonly from: CopyState | typeof NEW | null,
    readonly to: CopyState | null,
  ) {
    super(`copy lifecycle: ${transition} may not move a copy from ${from ?? '(any state)'} to ${to ?? '(its state)'}`);
    this.name = 'IllegalTransition';
  }
}

function entry(name: TransitionName): Transition {
  const found = (TRANSITIONS as Record<string, Transition>)[name];
  if (found === undefined) throw new IllegalTransition(String(name), null, null);
  return found;
}

/** The states in which `name` may find a copy (and act on it), in the order of COPY_STATES. */
export function fromStates(name: TransitionName): CopyState[] {
  const t = entry(name);
  const found = new Set<CopyState | typeof NEW>([...t.moves.map(([from]) => from), ...t.keeps]);
  return COPY_STATES.filter((s) => found.has(s));
}

/** The states `name` moves a copy to (none for a transition that only writes an event). */
export function toStates(name: TransitionName): CopyState[] {
  const targets = new Set(entry(name).moves.map(([, to]) => to));
  return COPY_STATES.filter((s) => targets.has(s));
}

/**
 * The new state under transition `name` as a SQL expression over the column `state`: each of its
 * moves, and the state as it is for the states it keeps.
 */
export function movedState(name: TransitionName): string {
  const moves = entry(name).moves.filter(([from]) => from !== NEW) as Array<[CopyState, CopyState]>;
  if (moves.length === 0 || new Set(moves.map(([from]) => from)).size !== moves.length) {
    throw new Error(`${name}: its moves do not decide one new state per state`);
  }
  return `CASE ${moves.map(([from, to]) => `WHEN state = '${from}' THEN '${to}'`).join(' ')} ELSE state END`;
}

/** Whether `name` may move a copy from `from` to `to` (`to` equal to `from`: may act without moving it). */
export function mayMove(name: TransitionName, from: CopyState | typeof NEW, to: CopyState): boolean {
  const t = entry(name);
  if (from !== NEW && from === to && t.keeps.includes(from)) return true;
  return t.moves.some(([f, s]) => f === from && s === to);
}

/** Throws IllegalTransition unless `name` may move a copy from `from` to `to`. */
export function checkMove(name: TransitionName, from: CopyState | typeof NEW, to: CopyState): void {
  if (!mayMove(name, from, to)) throw new IllegalTransition(name, from, to);
}

/** Throws IllegalTransition unless `to` is a state `name` moves copies to. */
export function checkTarget(name: TransitionName, to: CopyState): void {
  if (!toStates(name).includes(to)) throw new IllegalTransition(name, null, to);
}

/** The single state `name` moves a copy to; throws when it has several or none. */
export function targetOf(name: TransitionName): CopyState {
  const targets = toStates(name);
  if (targets.length !== 1) throw new IllegalTransition(name, null, null);
  return targets[0]!;
}

/** The history row `name` writes when it moves a copy to `to` (or leaves it in `to`); null for none. */
export function eventOf(name: TransitionName, to?: CopyState): CopyEvent | null {
  const { event } = entry(name);
  if (event !== 'to') return event;
  if (to === undefined) throw new IllegalTransition(name, null, null);
  return to;
}

/** States as an SQL list of literals (`'routed', 'retrying'`): copy states are fixed words, never input. */
export function sqlStates(states: readonly string[]): string {
  for (const s of states) if (!/^[a-z-]+$/.test(s)) throw new Error(`not a copy state: ${s}`);
  return states.map((s) => `'${s}'`).join(', ');
}

/** Mermaid state ids cannot hold a hyphen. */
function idOf(state: CopyState): string {
  return state.replace(/-/g, '_');
}

/** The lifecycle as a mermaid state diagram: every move with its actor and transition. */
export function lifecycleMermaid(): string {
  const lines = ['stateDiagram-v2'];
  for (const state of COPY_STATES) if (state.includes('-')) lines.push(`  state "${state}" as ${idOf(state)}`);
  for (const name of TRANSITION_NAMES) {
    const t = entry(name);
    for (const [from, to] of t.moves) {
      lines.push(`  ${from === NEW ? '[*]' : idOf(from)} --> ${idOf(to)} : ${t.actor} ${name}`);
    }
  }
  return lines.join('\n');
}

/** The lifecycle as a markdown table: every transition, its actor, moves, and the history row it writes. */
export function lifecycleTable(): string {
  const rows = TRANSITION_NAMES.map((name) => {
    const t = entry(name);
    const moves = t.moves.map(([from, to]) => `${from} → ${to}`);
    if (t.keeps.length > 0) moves.push(t.keeps.length === COPY_STATES.length ? 'any state, unchanged' : `${t.keeps.join(', ')}: unchanged`);
    const event = t.event === null ? '(none)' : t.event === 'to' ? 'the new state' : `\`${t.event}\``;
    return `| \`${name}\` | ${t.actor} | ${t.summary} | ${moves.join('; ')} | ${event} |`;
  });
  return ['| Transition | By | What | Moves | History row |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export const LIFECYCLE_BEGIN = '<!-- copy-lifecycle:begin -->';
export const LIFECYCLE_END = '<!-- copy-lifecycle:end -->';

/** What docs/architecture.md holds between LIFECYCLE_BEGIN and LIFECYCLE_END. */
export function lifecycleSection(): string {
  return [
    LIFECYCLE_BEGIN,
    '<!-- Generated from apps/gateway/src/store/copy-lifecycle.ts by `npm run generate`; do not edit by hand. -->',
    '',
    '```mermaid',
    lifecycleMermaid(),
    '```',
    '',
    lifecycleTable(),
    LIFECYCLE_END,
  ].join('\n');
}
