import { SUMMARY_BATCH } from '@svu/report-store';
import type { ReportsRepository } from '../store/reports.repository';
import { systemClock } from '../common/clock/clock';
import { ReportSummaryService, SUMMARY_BUSY_CHANGES_PER_S, SUMMARY_MAX_DEFER_MS, SUMMARY_REST_FACTOR, SUMMARY_VACUUM_AFTER_ROWS } from './report-summary.service';

describe('ReportSummaryService', () => {
  it('drains full batches until a short one, resting between batches in proportion to their time', async () => {
    const picked = [SUMMARY_BATCH, SUMMARY_BATCH, 7];
    const calls: string[] = [];
    const reports = {
      summaryChanges: () => Promise.resolve(0),
      drainSummary: async (batch: number) => {
        calls.push(`batch ${batch}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const n = picked.shift()!;
        return { done: true, picked: n, refreshed: n };
      },
    } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports, systemClock);
    const rests: number[] = [];
    service.rest = (ms) => {
      rests.push(ms);
      calls.push('rest');
      return Promise.resolve();
    };
    expect(await service.drain()).toBe(0); // the first look only records the write path's count
    expect(await service.drain()).toBe(2 * SUMMARY_BATCH + 7);
    expect(calls).toEqual([`batch ${SUMMARY_BATCH}`, 'rest', `batch ${SUMMARY_BATCH}`, 'rest', `batch ${SUMMARY_BATCH}`]);
    // Each rest is SUMMARY_REST_FACTOR times the batch before it (about 20 ms here).
    for (const ms of rests) expect(ms).toBeGreaterThanOrEqual(15 * SUMMARY_REST_FACTOR);
  });

  it('leaves the round when another process holds the job', async () => {
    const reports = { summaryChanges: () => Promise.resolve(0), drainSummary: () => Promise.resolve({ done: false, picked: 0, refreshed: 0 }) } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports, systemClock);
    service.rest = () => Promise.reject(new Error('no rest expected'));
    expect(await service.drain()).toBe(0);
  });

  /** A job over a fake write path: `changes` is what the store has listed, `clock` the time in ms. */
  function jobOverWritePath() {
    const state = { changes: 0, clock: 0, batches: 0 };
    const reports = {
      summaryChanges: () => Promise.resolve(state.changes),
      drainSummary: () => {
        state.batches += 1;
        return Promise.resolve({ done: true, picked: 1, refreshed: 1 });
      },
    } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports, systemClock);
    service.now = () => state.clock;
    /** One round of the job `seconds` after the last, the write path having listed `perSecond` changes a second meanwhile. */
    const roundAfter = async (seconds: number, perSecond: number) => {
      state.clock += seconds * 1000;
      state.changes += seconds * perSecond;
      return service.drain();
    };
    return { state, roundAfter };
  }

  it('leaves the database to a busy write path and computes again in its first quiet second', async () => {
    const { state, roundAfter } = jobOverWritePath();
    expect(await roundAfter(1, 0)).toBe(0); // first look: no rate known yet, only recorded
    expect(await roundAfter(1, 0)).toBe(1);
    expect(await roundAfter(1, SUMMARY_BUSY_CHANGES_PER_S * 15)).toBe(0); // a burst of admissions
    expect(await roundAfter(1, SUMMARY_BUSY_CHANGES_PER_S + 1)).toBe(0);
    expect(state.batches).toBe(1);
    expect(await roundAfter(1, SUMMARY_BUSY_CHANGES_PER_S)).toBe(1); // at the threshold: not busy
    expect(await roundAfter(1, 2)).toBe(1); // a region's ordinary rate
    expect(state.batches).toBe(3);
  });

  it('computes at its ordinary pace again when the write path stays busy longer than the longest wait', async () => {
    const { state, roundAfter } = jobOverWritePath();
    await roundAfter(1, 0);
    await roundAfter(1, 0);
    const busyRounds = SUMMARY_MAX_DEFER_MS / 1000 - 1;
    for (let i = 0; i < busyRounds; i++) expect(await roundAfter(1, 1500)).toBe(0);
    expect(state.batches).toBe(1);
    expect(await roundAfter(1, 1500)).toBe(1); // busy for SUMMARY_MAX_DEFER_MS: no longer waits
    expect(await roundAfter(1, 1500)).toBe(1);
    expect(await roundAfter(1, 0)).toBe(1); // quiet: the next busy stretch is waited out again
    expect(await roundAfter(1, 1500)).toBe(0);
  });

  it('vacuums the list once it has emptied it after taking SUMMARY_VACUUM_AFTER_ROWS rows since the last vacuum', async () => {
    const calls: string[] = [];
    let left = SUMMARY_VACUUM_AFTER_ROWS + 30;
    const reports = {
      summaryChanges: () => Promise.resolve(0),
      drainSummary: (batch: number) => {
        const picked = Math.min(batch, left);
        left -= picked;
        calls.push('batch');
        return Promise.resolve({ done: true, picked, refreshed: picked });
      },
      vacuumPending: () => Promise.resolve(void calls.push('vacuum')),
    } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports, systemClock);
    service.rest = () => Promise.resolve();
    await service.drain(); // the first look only records the write path's count
    await service.drain();
    expect(calls.filter((c) => c === 'vacuum')).toHaveLength(1);
    expect(calls.at(-1)).toBe('vacuum'); // after the short batch that emptied it, not while rows were left
    left = 5;
    await service.drain(); // a few rows since: no vacuum
    expect(calls.filter((c) => c === 'vacuum')).toHaveLength(1);
  });
});
