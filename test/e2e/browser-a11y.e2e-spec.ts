import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { DESK, launchBrowser, PHONE, screenshot, scrollsSideways, seriousA11yViolations, signIn, type AxeViolation } from '../support/browser';
import { OPERATOR } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

/**
 * The console for keyboard users, at phone width and for assistive technology: axe-core finds no
 * serious or critical violation on any page at desk or phone size, no list scrolls sideways on a
 * phone, a keyboard alone gets from sign-in to a replayed dead letter, and the answer of a page the
 * user has left never replaces the page now shown.
 */
let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let browser: Browser;
let units: DirectoryUnit[];
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));
const ingest = (format: string, bytes: Buffer) => postIngress(base, format, bytes).then((r) => r.json() as Promise<any>);
let invalidId: string;
let failedIds: string[] = [];

async function deadLettersFailed(messageIds: string[]): Promise<string[]> {
  return eventually(async () => {
    const rows = await query(services.databaseUrl, "SELECT id FROM dead_letters WHERE reason = 'delivery-failed' AND message_id = ANY($1) ORDER BY id", [messageIds]);
    return rows.length === messageIds.length ? rows.map((r: any) => String(r.id)) : undefined;
  });
}

async function newPage(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  return { context, page: await context.newPage() };
}

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'browser-a11y',
    units: (port) => [
      { hsaId: 'SE2321000016-1480', name: 'Hemsjukvården Alingsås', role: 'municipal-health-care', dialect: 'lifecare', transport: { kind: 'http', url: `http://127.0.0.1:${port}/u`, allowInsecureHttp: true } },
      { hsaId: 'SE2321000016-NONE', name: 'Socialtjänst Alingsås', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 5', '441 81 Alingsås'] },
    ],
    settings: { SVU_RETRY_BUDGET: 'PT0.5S', SVU_BULK_PER_SECOND: '20' },
    clock,
  });
  ({ services, simulator, app, base, units } = gateway);
  browser = await launchBrowser();

  // Something on every page: an invalid message, copies that could not be delivered, a fallback document.
  const broken = bytesOf(exampleFor('discharged', [units[0]!]), 'lifecare').toString('utf8').replace('<lc:Destination>HEM</lc:Destination>', '<lc:Destination>HEMMA</lc:Destination>');
  invalidId = String((await ingest('lifecare', Buffer.from(broken))).deadLetterId);
  simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 503 });
  const messages = [0, 1, 2, 3].map(() => exampleFor('message', [units[0]!]));
  for (const m of messages) await ingest('samsa', bytesOf(m, 'samsa'));
  failedIds = await deadLettersFailed(messages.map((m) => m.messageId));
  simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  const admission = exampleFor('admission', [units[1]!]);
  await ingest('canonical', bytesOf(admission, 'canonical'));
  await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'manual'", [admission.messageId])).length > 0 ? true : undefined));
  await app.get(DeadlineService).tick();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
}, 60_000);

/** Presses Tab until the focused element matches `selector` (at most `max` times); only the keyboard. */
async function tabTo(page: Page, selector: string, max = 250): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate<boolean>(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
  }
  throw new Error(`${selector} never took the focus after ${max} presses of Tab`);
}

it('a keyboard alone gets from sign-in to a replayed dead letter (desk)', async () => {
  const { context, page } = await newPage(DESK);
  try {
    await page.goto(base);
    await page.waitForSelector('input[name=username]');
    await tabTo(page, 'input[name=username]');
    await page.keyboard.type(OPERATOR.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OPERATOR.password);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dead-letter-count');
    await tabTo(page, 'nav a[href="#/dead-letters"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dead-letters');
    // The filter by unit name, typed.
    await tabTo(page, 'input[name=recipient]');
    await page.keyboard.type('Hemsjukvården');
    await page.keyboard.press('Enter');
    await eventually(async () => ((await page.evaluate<string>('location.hash')).includes('recipient=Hemsjukv') ? true : undefined));
    await page.waitForSelector(`#dead-letters a[href="#/dead-letters/${failedIds[0]}"]`);
    await tabTo(page, `#dead-letters a[href="#/dead-letters/${failedIds[0]}"]`);
    await screenshot(page, 'a11y-keyboard-1-focused-row');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#replay');
    await tabTo(page, '#replay');
    await page.keyboard.press('Space');
    await page.waitForSelector('#action-result >> text=Done: replayed');
    await screenshot(page, 'a11y-keyboard-2-replayed');
    await eventually(async () => ((await query(services.databaseUrl, 'SELECT resolution FROM dead_letters WHERE id = $1', [failedIds[0]]))[0]?.resolution === 'replayed' ? true : undefined));
  } finally {
    await context.close();
  }
}, 90_000);

it('the late answer of a page the user has left does not replace the page now shown', async () => {
  const { context, page } = await newPage(DESK);
  try {
    await signIn(page, base, OPERATOR);
    await page.waitForSelector('#dead-letter-count');
    await page.goto(`${base}/#/retention`);
    await page.waitForSelector('h2 >> text=Retention');
    let delayed = 0;
    await page.route('**/api/overview', async (route) => {
      delayed += 1;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await route.continue();
    });
    await page.click('nav a[href="#/overview"]');
    await eventually(() => (delayed > 0 ? true : undefined));
    await page.click('nav a[href="#/dispatch"]');
    await page.waitForSelector('h2 >> text=Manual dispatch');
    // The overview's answer arrives now, after the user moved on: discarded.
    await page.waitForTimeout(2_500);
    expect(await page.textContent('main h2')).toBe('Manual dispatch');
    expect(await page.$('#dead-letter-count')).toBeNull();
    expect(await page.getAttribute('nav a[href="#/dispatch"]', 'aria-current')).toBe('page');
  } finally {
    await context.close();
  }
}, 60_000);

it('previews a bulk job in the page (by unit code), shows its live progress from the store, lists it, and refreshes the list when it ends', async () => {
  const { context, page } = await newPage(DESK);
  try {
    await signIn(page, base, OPERATOR);
    await page.goto(`${base}/#/dead-letters?recipient=1480&reason=delivery-failed&status=all`);
    await page.waitForSelector('#dead-letters a.dead-letter-link');
    expect(await page.textContent('#dead-letter-range')).toContain(`1–${failedIds.length} of ${failedIds.length}`);
    let dialogs = 0;
    page.on('dialog', (d) => { dialogs += 1; void d.dismiss(); });
    await page.click('text=Replay all filtered…');
    await page.waitForSelector('#bulk-preview-title');
    const open = failedIds.length - 1; // the keyboard test replayed one
    expect(await page.textContent('#bulk-preview-title')).toBe(`Replay ${open} open dead letters?`);
    expect(await page.textContent('#bulk-panel')).toContain(`Hemsjukvården Alingsås ${units[0]!.hsaId}`);
    await screenshot(page, 'a11y-bulk-1-preview');
    await page.click('#bulk-confirm');
    await page.waitForSelector('#bulk-status .status-done');
    expect(await page.textContent('#bulk-status')).toContain(`${open} of ${open}: ${open} done, 0 failed, 0 skipped`);
    // The list was refreshed when the job ended: no row says open any more.
    await eventually(async () => ((await page.$$eval('#dead-letters td.resolution', (tds) => tds.map((t) => t.textContent))).every((t) => t === 'replayed') ? true : undefined));
    await screenshot(page, 'a11y-bulk-2-done');
    expect(dialogs).toBe(0);
    await page.click('nav a[href="#/bulk-jobs"]');
    await page.waitForSelector('#bulk-jobs');
    expect(await page.textContent('#bulk-jobs tr:nth-child(2)')).toContain(`${open} of ${open}: ${open} done`);
    expect(await page.textContent('#bulk-jobs tr:nth-child(2) td.status-done')).toBe('done');
    // The audit log shows the job as one row, its dead letters under it on demand.
    await page.goto(`${base}/#/audit?action=bulk-replay`);
    await page.waitForSelector('#audit');
    await page.click(`#audit button >> text=Show its ${open} entries`);
    await page.waitForSelector('#audit tr.audit-item');
    expect(await page.$$eval('#audit tr.audit-item a[href^="#/dead-letters/"]', (a) => a.length)).toBe(open);
    await screenshot(page, 'a11y-bulk-3-audit');
  } finally {
    await context.close();
  }
}, 90_000);

/** Each page, and the start of its heading (what shows that it, not the page before, is shown). */
const PAGES = [['overview', 'Overview'], ['messages', 'Find a message'], ['messages?q=1480', 'Find a message'], ['dead-letters', 'Dead-letter queue'], ['dead-letters/{invalid}', 'Dead letter '], ['recipients', 'Recipients'],
  ['dispatch', 'Manual dispatch'], ['deviations', 'Deviations'], ['reports?month=2026-03&municipality=1480', 'Follow-up 2026-03'], ['audit', 'Audit log'],
  ['retention', 'Retention'], ['bulk-jobs', 'Bulk jobs'], ['bulk-jobs/1', 'Bulk replay 1']] as const;

it.each([['desk', DESK], ['phone', PHONE]] as const)('no serious or critical axe violation on any page, and none scrolls sideways on a phone (%s)', async (name, viewport) => {
  const { context, page } = await newPage(viewport);
  const found: Record<string, AxeViolation[]> = {};
  const sideways: string[] = [];
  try {
    await page.goto(base);
    await page.waitForSelector('input[name=username]');
    found['login'] = await seriousA11yViolations(page);
    await screenshot(page, `a11y-${name}-login`);
    await signIn(page, base, OPERATOR);
    for (const [path, heading] of PAGES) {
      const route = path.replace('{invalid}', invalidId);
      await page.goto(`${base}/#/${route}`);
      await page.locator('main h2', { hasText: heading }).first().waitFor();
      if (route.startsWith('reports')) await page.waitForSelector('#chart svg');
      found[route] = await seriousA11yViolations(page);
      if (name === 'phone' && (await scrollsSideways(page))) sideways.push(route);
      await screenshot(page, `a11y-${name}-${route.replace(/[/?&=]/g, '_')}`);
    }
    if (name === 'phone') {
      // The navigation folds behind the Menu button: the header is the name, Menu and the user, not three lines of links.
      expect(await page.isVisible('nav a[href="#/overview"]')).toBe(false);
      const header = await page.$eval('header', (e) => e.getBoundingClientRect().height);
      expect(header).toBeLessThan(100);
      await page.click('#nav-toggle');
      expect(await page.getAttribute('#nav-toggle', 'aria-expanded')).toBe('true');
      await page.click('nav a[href="#/audit"]');
      await page.waitForSelector('#audit');
      expect(await page.isVisible('nav a[href="#/overview"]')).toBe(false);
      found['menu'] = await seriousA11yViolations(page);
    }
  } finally {
    await context.close();
  }
  const violations = Object.entries(found).filter(([, v]) => v.length > 0).map(([route, v]) => `${route}: ${v.map((x) => `${x.id} (${x.impact}) ${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('; ')}`);
  expect(violations).toEqual([]);
  expect(sideways).toEqual([]);
}, 180_000);
