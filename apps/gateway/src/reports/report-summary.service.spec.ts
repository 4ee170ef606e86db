import { SUMMARY_BATCH } from '@svu/report-store';
import type { ReportsRepository } from '../store/reports.repository';
import { ReportSummaryService, SUMMARY_REST_FACTOR } from './report-summary.service';

describe('ReportSummaryService', () => {
  it('drains full batches until a short one, resting between batches in proportion to their time', async () => {
    const picked = [SUMMARY_BATCH, SUMMARY_BATCH, 7];
    const calls: string[] = [];
    const reports = {
      drainSummary: async (batch: number) => {
        calls.push(`batch ${batch}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const n = picked.shift()!;
        return { done: true, picked: n, refreshed: n };
      },
    } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports);
    const rests: number[] = [];
    service.rest = (ms) => {
      rests.push(ms);
      calls.push('rest');
      return Promise.resolve();
    };
    expect(await service.drain()).toBe(2 * SUMMARY_BATCH + 7);
    expect(calls).toEqual([`batch ${SUMMARY_BATCH}`, 'rest', `batch ${SUMMARY_BATCH}`, 'rest', `batch ${SUMMARY_BATCH}`]);
    // Each rest is SUMMARY_REST_FACTOR times the batch before it (about 20 ms here).
    for (const ms of rests) expect(ms).toBeGreaterThanOrEqual(15 * SUMMARY_REST_FACTOR);
  });

  it('leaves the round when another process holds the job', async () => {
    const reports = { drainSummary: () => Promise.resolve({ done: false, picked: 0, refreshed: 0 }) } as unknown as ReportsRepository;
    const service = new ReportSummaryService(reports);
    service.rest = () => Promise.reject(new Error('no rest expected'));
    expect(await service.drain()).toBe(0);
  });
});
