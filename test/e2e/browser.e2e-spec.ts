import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Browser, Page } from 'playwright-core';
import type { DirectoryUnit } from '@svu/directory';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { DeadlineService } from '../../apps/gateway/src/deadlines/deadline.service';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, exampleFor } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { startConsoleGateway, type ConsoleGateway } from '../support/console-harness';
import { launchBrowser, SCREENS } from '../support/browser';

/** The web console in headless Chromium (test/support/browser.ts), driven by playwright-core. */

let services: TestServices;
let simulator: RecipientSimulator;
let app: INestApplication;
let base: string;
let browser: Browser;
let page: Page;
let units: DirectoryUnit[];
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));
const cspViolations: string[] = [];

const ingest = (format: string, bytes: Buffer) => postIngress(base, format, bytes).then((r) => r.json() as Promise<any>);
const shot = (name: string) => page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'browser',
    units: (port) => [
      { hsaId: 'SE2120000005-HTTP', name: 'Hemsjukvården Webb', role: 'municipal-health-care', dialect: 'lifecare', transport: { kind: 'http', url: `http://127.0.0.1:${port}/u`, allowInsecureHttp: true } },
      { hsaId: 'SE2120000005-NONE', name: 'Socialtjänst Webb', role: 'social-services', dialect: 'webcare', transport: { kind: 'none' }, postalAddress: ['Box 5', '411 05 Göteborg'] },
    ],
    settings: { SVU_RETRY_BUDGET: 'PT0.5S' },
    clock,
  });
  ({ services, simulator, app, base, units } = gateway);
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true })).newPage();
  page.on('dialog', (dialog) => void (dialog.type() === 'prompt' ? dialog.accept('Felaktig testdata') : dialog.accept()));
  // Chromium reports on the console whatever the Content-Security-Policy blocked (scripts, styles).
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
}, 60_000);

it('signs in, finds a dead-lettered message, corrects and replays it, and sees it delivered', async () => {
  const message = exampleFor('discharged', [units[0]!]);
  const broken = bytesOf(message, 'lifecare').toString('utf8').replace('<lc:Destination>HEM</lc:Destination>', '<lc:Destination>HEMMA</lc:Destination>');
  await ingest('lifecare', Buffer.from(broken));

  await page.goto(base);
  await page.fill('input[name=username]', OPERATOR.username);
  await page.fill('input[name=password]', OPERATOR.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('#dead-letter-count');
  await shot('1-overview');

  await page.click('nav a[href="#/dead-letters"]');
  await page.fill('input[name=q]', message.messageId);
  await page.click('form.filters button[type=submit]');
  const row = page.locator('#dead-letters tr', { hasText: message.messageId });
  await row.waitFor();
  await shot('2-dead-letters');
  await row.locator('a.dead-letter-link').click();
  await page.waitForSelector('#payload-editor');
  expect(await page.textContent('.problems')).toContain('body.destination: unknown code "HEMMA"');
  await page.fill('#payload-editor', broken.replace('HEMMA', 'HEM'));
  await page.click('#correct');
  await page.waitForSelector('#action-result >> text=Done: corrected');
  await shot('3-corrected');
  await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
}, 60_000);

it('replays a filtered selection in bulk after confirming the count, with progress', async () => {
  simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 503 });
  const messages = [0, 1, 2].map(() => exampleFor('message', [units[0]!]));
  for (const m of messages) await ingest('samsa', bytesOf(m, 'samsa'));
  await eventually(async () => {
    const rows = await query(services.databaseUrl, "SELECT 1 FROM dead_letters WHERE reason = 'delivery-failed' AND message_id = ANY($1)", [messages.map((m) => m.messageId)]);
    return rows.length === 3 ? true : undefined;
  });
  simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  await page.goto(`${base}/#/dead-letters?reason=delivery-failed&recipient=${units[0]!.hsaId}`);
  await page.waitForSelector('#dead-letters a.dead-letter-link');
  await page.click('text=Replay all filtered…');
  await page.click('#bulk-confirm');
  await page.waitForSelector('#bulk-status .status-done');
  expect(await page.textContent('#bulk-status')).toContain('3 of 3: 3 done, 0 failed, 0 skipped');
  await shot('4-bulk-replay');
  for (const m of messages) await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === m.messageId));
}, 60_000);

it('downloads a fallback document and marks it sent', async () => {
  const message = exampleFor('admission', [units[1]!]);
  await ingest('canonical', bytesOf(message, 'canonical'));
  await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'manual'", [message.messageId])).length > 0 ? true : undefined));
  await app.get(DeadlineService).tick();
  await page.goto(`${base}/#/dispatch`);
  await page.waitForSelector('#dispatch');
  await shot('5-manual-dispatch');
  const row = page.locator('#dispatch tr', { hasText: message.messageId });
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a', { hasText: 'PDF' }).click()]);
  const file = await download.path();
  expect(readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
  await row.locator('button', { hasText: 'Mark sent by letter' }).click();
  await row.locator('button', { hasText: 'Yes, sent by letter' }).click(); // the confirmation in the page
  await page.waitForSelector(`#dispatch tr:has-text("${message.messageId}") >> text=sent by letter`);
  await page.goto(`${base}/#/deviations`);
  await page.waitForSelector('h2 >> text=Deviations');
  await shot('6-deviations');
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('h2 >> text=Audit log');
  expect(await page.textContent('main')).toContain('mark-sent');
  await shot('7-audit');
  await page.goto(`${base}/#/retention`);
  await page.waitForSelector('h2 >> text=Retention');
  expect(await page.textContent('main')).toMatch(/Payloads of settled messages\s*90/);
  expect(await page.textContent('main')).toContain('Nothing pruned yet.');
  await page.goto(`${base}/#/reports?month=2026-03&municipality=1480`);
  await page.waitForSelector('#chart svg');
  // The municipality's episodes of the month, each with its reason (or that there are none).
  await page.waitForSelector('#report-episodes, #report-episodes-none');
  await shot('8-reports');
}, 60_000);

it('asks for the reason of a discard and of a pause in the page, not in a browser dialog', async () => {
  let dialogs = 0;
  const count = () => { dialogs += 1; };
  page.on('dialog', count);
  try {
    const message = exampleFor('discharged', [units[0]!]);
    await ingest('lifecare', Buffer.from(bytesOf(message, 'lifecare').toString('utf8').replace('<lc:Destination>HEM</lc:Destination>', '<lc:Destination>HEMMA</lc:Destination>')));
    const [dead] = await eventually(async () => {
      const rows = await query<{ id: string }>(services.databaseUrl, 'SELECT id FROM dead_letters WHERE message_id = $1', [message.messageId]);
      return rows.length > 0 ? rows : undefined;
    });
    await page.goto(`${base}/#/dead-letters/${dead!.id}`);
    await page.click('#discard');
    // Cancel leaves it open; the reason is required.
    await page.click('form.ask-reason button:has-text("Cancel")');
    expect(await page.locator('form.ask-reason').count()).toBe(0);
    await page.click('#discard');
    await page.getByLabel('Reason for discarding (required, audited)').fill('Testdata, skickas om av avdelningen');
    await shot('9-discard-reason');
    await page.click('form.ask-reason button[type=submit]');
    await page.waitForSelector('#action-result >> text=Done: discarded');

    await page.goto(`${base}/#/recipients`);
    const row = page.locator(`#recipients tr[data-hsa="${units[0]!.hsaId}"]`);
    await row.locator('button', { hasText: 'Pause' }).click();
    await page.getByLabel(/Reason \(audited\)/).fill('Planerat underhåll 02:00–04:00');
    await page.click('form.ask-reason button[type=submit]');
    await page.waitForSelector(`#recipients tr[data-hsa="${units[0]!.hsaId}"] >> text=Planerat underhåll 02:00–04:00`);
    await shot('10-paused-with-reason');
    await row.locator('button', { hasText: 'Resume' }).click();
    await page.waitForSelector(`#recipients tr[data-hsa="${units[0]!.hsaId}"] >> text=healthy`);
    expect(dialogs).toBe(0);
  } finally {
    page.off('dialog', count);
  }
}, 60_000);

it('runs under its strict Content-Security-Policy without breaking a rule of it', async () => {
  const response = await page.goto(base);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self';");
  await page.waitForSelector('#dead-letter-count');
  // The API documentation (Swagger UI) too.
  await page.goto(`${base}/api/docs`);
  await page.waitForSelector('.swagger-ui .info .title');
  expect(cspViolations).toEqual([]);
  // The check above can fail: an inline script is refused and reported.
  await page.evaluate(`{ const script = document.createElement('script'); script.textContent = 'window.inlineRan = true'; document.body.append(script); }`);
  await eventually(() => (cspViolations.length > 0 ? true : undefined), 5_000, 'the violation to be reported');
  expect(await page.evaluate('window.inlineRan')).toBeUndefined();
}, 60_000);
