import type { INestApplication } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { DESK, launchBrowser, PHONE, screenshot, scrollsSideways, seriousA11yViolations, signIn } from '../support/browser';
import { OPERATOR, signIn as apiSignIn } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor, onTimeAdmission } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

// Issue #18 in the browser, at desk and phone size: a document whose copy was delivered meanwhile is
// never offered for sending; mark sent → confirm → undo; the at-risk count true beyond the list's
// cap; no serious accessibility violations on the overview, dispatch, deviations and reports pages.

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let browser: Browser;
let token: string;
let failing: DirectoryUnit;
let none: DirectoryUnit;
let supersededId: string;
const toSend: Record<string, string> = {};
const clock = new ManualClock(new Date());
const H = 3_600_000;

const ingest = async (message: ReturnType<typeof exampleFor>) => expect((await postIngress(base, 'samsa', bytesOf(message, 'samsa'))).status).toBe(202);
const stateOf = async (messageId: string) => (await query<{ state: string; delivered_at: Date | null }>(services.databaseUrl, 'SELECT state, delivered_at FROM copies WHERE message_id = $1', [messageId]))[0];
const documentId = async (messageId: string) => (await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM fallback_documents WHERE message_id = $1', [messageId]))[0]?.id;

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'browser-dispatch',
    units: (port) => [
      (failing = { hsaId: 'SE2120000008-FAIL', name: 'Hemsjukvården Eken', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'http', url: `http://127.0.0.1:${port}/f`, allowInsecureHttp: true }, fax: '+46 31 555 80 00' }),
      (none = { hsaId: 'SE2120000008-NONE', name: 'Socialtjänsten Aspen', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 8', '411 08 Göteborg'] }),
    ],
    settings: { SVU_RETRY_BUDGET: 'PT0.5S' },
    clock,
  });
  ({ services, simulator, app, base } = gateway);
  simulator.behave(failing.hsaId, { mode: 'fail', status: 503 });
  token = await apiSignIn(base, OPERATOR);

  // A document for a copy that was then delivered electronically (a replay after the recipient came back).
  const replayed = exampleFor('message', [failing]);
  await ingest(replayed);
  await eventually(async () => ((await stateOf(replayed.messageId))?.state === 'dead-lettered' ? true : undefined), 20_000, 'dead-lettered');
  await app.get(DeadlineService).tick();
  supersededId = (await eventually(() => documentId(replayed.messageId)))!;
  simulator.behave(failing.hsaId, { mode: 'accept' });
  const [letter] = await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM dead_letters WHERE message_id = $1', [replayed.messageId]);
  await fetch(`${base}/api/dead-letters/${letter!.id}/replay`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  await eventually(async () => ((await stateOf(replayed.messageId))?.delivered_at ? true : undefined), 20_000, 'delivered electronically');

  // One document to send per screen size (no deadline: listed before the admissions), and more
  // admissions at risk than the overview lists.
  for (const size of ['desk', 'phone']) {
    const m = exampleFor('message', [none]);
    await ingest(m);
    toSend[size] = m.messageId;
  }
  const admissions = Array.from({ length: 54 }, () => onTimeAdmission([none]));
  for (let i = 0; i < admissions.length; i += 9) await Promise.all(admissions.slice(i, i + 9).map((m) => ingest(m)));
  for (const m of [...admissions.map((a) => a.messageId), ...Object.values(toSend)]) await eventually(async () => ((await stateOf(m))?.state === 'manual' ? true : undefined));
  await app.get(DeadlineService).tick();
  clock.set(new Date(Date.now() + 22 * H)); // their deadlines (about 23 h ahead) are within the margin
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
}, 60_000);

describe.each([
  ['desk', DESK],
  ['phone', PHONE],
] as const)('at %s size', (size, viewport) => {
  let page: Page;
  beforeAll(async () => {
    page = await (await browser.newContext({ viewport })).newPage();
    await signIn(page, base, OPERATOR);
  }, 30_000);

  it('the overview counts at risk beyond the cap and says how many it shows', async () => {
    await page.goto(`${base}/#/overview`);
    await page.waitForSelector('#at-risk-shown', { timeout: 5000 }).catch(async (e) => {
      console.log(await screenshot(page, `dispatch-${size}-0-failed`), await page.textContent('main'));
      throw e;
    });
    const overview = (await (await fetch(`${base}/api/overview`, { headers: { authorization: `Bearer ${token}` } })).json()) as { atRiskTotal: number; atRisk: unknown[]; deadLetters: number };
    expect(overview.atRiskTotal).toBeGreaterThan(50);
    expect(await page.textContent('#at-risk-count')).toBe(String(overview.atRiskTotal));
    expect(await page.textContent('#at-risk-shown')).toContain(`Showing the 50 nearest of ${overview.atRiskTotal}`);
    expect(await page.locator('#at-risk tbody tr').count()).toBe(50);
    expect(await page.textContent('#dead-letter-count')).toBe(String(overview.deadLetters));
    console.log(await screenshot(page, `dispatch-${size}-1-overview`));
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await scrollsSideways(page)).toBe(false);
  }, 60_000);

  it('a document whose copy was delivered meanwhile is never offered for sending, and is shown marked why', async () => {
    await page.goto(`${base}/#/dispatch`);
    await page.waitForSelector('#dispatch-total');
    expect(await page.locator(`#dispatch tr[data-id="${supersededId}"]`).count()).toBe(0);
    expect(await page.textContent('#dispatch-counts')).toContain('superseded 1');
    await page.goto(`${base}/#/dispatch?status=superseded`);
    const row = page.locator(`#dispatch tr[data-id="${supersededId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('superseded: delivered electronically');
    expect(await row.locator('button').count()).toBe(0);
    console.log(await screenshot(page, `dispatch-${size}-2-superseded`));
    expect(await seriousA11yViolations(page)).toEqual([]);
  }, 60_000);

  it('mark sent asks for a confirmation in the page, and can be undone', async () => {
    const id = (await documentId(toSend[size]!))!;
    // The admissions (with a deadline) come first, most urgent first; the documents without one after them, on page 2.
    await page.goto(`${base}/#/dispatch?unit=aspen&offset=50`);
    // The list of the page before (same route, other filter) may still be shown for a moment.
    await page.locator('#dispatch-total', { hasText: 'Showing 51–56 of 56 (waiting)' }).waitFor();
    const row = page.locator(`#dispatch tr[data-id="${id}"]`);
    await row.locator('button.mark-sent').click();
    await row.locator('.confirm').waitFor();
    expect(await row.textContent()).toContain('Only once it has really gone');
    console.log(await screenshot(page, `dispatch-${size}-3-confirm`));
    expect(await seriousA11yViolations(page)).toEqual([]);
    // Cancel leaves it waiting; confirming marks it sent.
    await row.locator('button', { hasText: 'Cancel' }).click();
    expect(await row.locator('button.mark-sent').count()).toBe(1);
    await row.locator('button.mark-sent').click();
    await row.locator('button.confirm-mark-sent').click();
    await page.waitForSelector('#undo-mark-sent');
    expect(await page.textContent('#dispatch-notice')).toContain('Marked sent by letter');
    expect(await page.locator(`#dispatch tr[data-id="${id}"]`).count()).toBe(0); // no longer waiting
    console.log(await screenshot(page, `dispatch-${size}-4-undo`));
    await page.click('#undo-mark-sent');
    await page.waitForSelector('#dispatch-notice >> text=Undone');
    await page.locator(`#dispatch tr[data-id="${id}"] button.mark-sent`).waitFor();
    const [copy] = await query<{ manual_delivered_at: Date | null }>(services.databaseUrl, 'SELECT manual_delivered_at FROM copies WHERE message_id = $1', [toSend[size]]);
    expect(copy!.manual_delivered_at).toBeNull();
    expect(await scrollsSideways(page)).toBe(false);
  }, 60_000);

  it('deviations and reports pages have no serious accessibility violations', async () => {
    await page.goto(`${base}/#/deviations`);
    await page.waitForSelector('#deviations-total');
    expect(await page.textContent('#deviations-total')).toMatch(/Showing 1–\d+ of \d+, newest first \(200 per page\)/);
    console.log(await screenshot(page, `dispatch-${size}-5-deviations`));
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.goto(`${base}/#/reports`);
    await page.waitForSelector('h2 >> text=Follow-up');
    console.log(await screenshot(page, `dispatch-${size}-6-reports`));
    expect(await seriousA11yViolations(page)).toEqual([]);
  }, 60_000);
});
