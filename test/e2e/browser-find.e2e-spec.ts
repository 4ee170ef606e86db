import type { Browser, Page } from 'playwright-core';
import type { DirectoryUnit } from '@svu/directory';
import { withCheckDigit } from '@svu/identity';
import { ManualClock } from '../../apps/gateway/src/common/clock/clock';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { DESK, launchBrowser, PHONE, screenshot, scrollsSideways, seriousA11yViolations, signIn } from '../support/browser';
import { OPERATOR, VIEWER } from '../support/console-users';
import { query } from '../support/gateway-harness';
import { postIngress } from '../support/ingress-client';
import { bytesOf, canonicalOf, exampleFor } from '../support/messages';
import { eventually, type TestServices } from '../support/services';
import { startConsoleGateway, type ConsoleGateway } from '../support/console-harness';

/** The Find page (search, timeline) and correct-and-replay in the message's own dialect, in Chromium at desk and phone size. */
let services: TestServices;
let simulator: RecipientSimulator;
let base: string;
let browser: Browser;
let units: DirectoryUnit[];
let port: number;
const clock = new ManualClock(new Date('2026-03-28T13:10:00Z'));

const ingest = (format: string, bytes: Buffer) => postIngress(base, format, bytes).then((r) => r.json() as Promise<any>);

let gateway: ConsoleGateway;
beforeAll(async () => {
  gateway = await startConsoleGateway({
    name: 'browser-find',
    units: (simulatorPort) => {
      port = simulatorPort;
      const url = (path: string) => ({ kind: 'http' as const, url: `http://127.0.0.1:${port}${path}`, allowInsecureHttp: true });
      return [
        { hsaId: 'SE2120000008-LIFE', name: 'Hemsjukvården Livet', role: 'municipal-health-care', dialect: 'lifecare', transport: url('/life') },
        { hsaId: 'SE2120000008-SLOW', name: 'Hemtjänst Långsam', role: 'municipal-health-care', dialect: 'samsa', transport: url('/slow') },
      ];
    },
    settings: { SVU_RETRY_BUDGET: 'PT1H' },
    clock,
  });
  ({ services, simulator, base, units } = gateway);
  browser = await launchBrowser();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
}, 60_000);

async function pageAt(size: { width: number; height: number }, user = OPERATOR): Promise<Page> {
  const page = await (await browser.newContext({ viewport: size })).newPage();
  await signIn(page, base, user);
  return page;
}

for (const [label, size] of [['desk', DESK], ['phone', PHONE]] as const) {
  it(`${label}: finds a retrying copy by message id; the timeline shows its attempts with endpoint, status and the start of the answer`, async () => {
    simulator.behave(units[1]!.hsaId, { mode: 'fail', status: 503 });
    const message = exampleFor('message', [units[0]!, units[1]!]);
    await ingest('samsa', bytesOf(message, 'samsa'));
    await eventually(async () => ((await query(services.databaseUrl, "SELECT 1 FROM copies WHERE message_id = $1 AND state = 'retrying'", [message.messageId])).length > 0 ? true : undefined));
    const page = await pageAt(size);
    // At phone width the navigation is behind the Menu button.
    if (await page.isVisible('#nav-toggle')) await page.click('#nav-toggle');
    await page.click('nav a[href="#/messages"]');
    await page.fill('#find-q', message.messageId);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector(`#find-results >> text=${message.messageId}`);
    expect(await page.textContent('#find-results')).toContain('Hemtjänst Långsam');
    expect(await page.textContent('#find-results')).toMatch(/retrying|sending/);
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, `find-1-results-${label}`);

    await page.click(`#find-results a[href="#/messages/${message.messageId}"]`);
    await page.waitForSelector('section.copy');
    const copy = page.locator('section.copy', { hasText: 'Hemtjänst Långsam' });
    const text = await copy.textContent();
    expect(text).toContain(`http://127.0.0.1:${port}/slow`);
    expect(text).toContain('HTTP 503');
    expect(text).toContain('simulated failure');
    expect(await page.textContent('main')).toContain(message.sender.hsaId);
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, `find-2-timeline-${label}`);
    // The overview's last errors say where the attempt went and what came back, too.
    await page.goto(`${base}/#/overview`);
    await page.locator('main', { hasText: `/slow answered` }).waitFor();
    expect(await page.textContent('main')).toContain(`HTTP 503 → http://127.0.0.1:${port}/slow answered`);
    simulator.behave(units[1]!.hsaId, { mode: 'accept' });
    await page.context().close();
  }, 60_000);

  it(`${label}: corrects a webcare message refused at ingress in webcare, and it reaches its lifecare recipient`, async () => {
    const message = exampleFor('message', [units[0]!]);
    const written = bytesOf(message, 'webcare').toString('latin1');
    const role = /roll="\d+"/.exec(written)![0];
    const broken = Buffer.from(written.replace(role, 'roll="9"'), 'latin1');
    const { deadLetterId } = await ingest('webcare', broken);
    const page = await pageAt(size);
    await page.goto(`${base}/#/dead-letters/${deadLetterId}`);
    await page.waitForSelector('#payload-editor');
    // An invalid message cannot be replayed unchanged: Correct is offered instead.
    expect(await page.locator('#replay').count()).toBe(0);
    await page.waitForSelector('#correct-jump');
    const shown = await page.inputValue('#payload-editor');
    expect(shown).toContain('läkemedelslista');
    expect(shown).not.toContain('\uFFFD');
    expect(await page.textContent('label[for=payload-editor]')).toContain('webcare');
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await scrollsSideways(page)).toBe(false);
    await screenshot(page, `find-3-dead-letter-invalid-${label}`);
    await page.fill('#payload-editor', shown.replace('roll="9"', role));
    await page.click('#correct');
    await page.waitForSelector('#action-result >> text=Done: corrected');
    const got = await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
    expect(JSON.stringify(canonicalOf('lifecare', got.bytes))).toContain('läkemedelslista');
    await page.context().close();
  }, 60_000);
}

it('desk: a webcare message its lifecare recipient refused is shown in webcare, replayed unchanged through Correct, and delivered', async () => {
  simulator.behave(units[0]!.hsaId, { mode: 'fail', status: 400 });
  const message = exampleFor('message', [units[0]!]);
  await ingest('webcare', bytesOf(message, 'webcare'));
  const [dead] = await eventually(async () => {
    const rows = await query<{ id: string }>(services.databaseUrl, "SELECT id FROM dead_letters WHERE message_id = $1 AND reason = 'delivery-failed'", [message.messageId]);
    return rows.length > 0 ? rows : undefined;
  });
  const page = await pageAt(DESK);
  await page.goto(`${base}/#/dead-letters/${dead!.id}`);
  await page.waitForSelector('#payload-editor');
  expect(await page.inputValue('#payload-editor')).toContain('läkemedelslista');
  expect(await page.textContent('main')).toContain('Hemsjukvården Livet');
  expect(await page.textContent('main')).toContain(`HTTP 400 → http://127.0.0.1:${port}/life answered`);
  expect(await page.locator('#replay').count()).toBe(1);
  expect(await seriousA11yViolations(page)).toEqual([]);
  await screenshot(page, 'find-4-dead-letter-cross-dialect-desk');
  simulator.behave(units[0]!.hsaId, { mode: 'accept' });
  await page.click('#correct');
  await page.waitForSelector('#action-result >> text=Done: corrected');
  await eventually(() => simulator.receivedBy(units[0]!.hsaId).find((r) => r.messageId === message.messageId));
  await page.context().close();
}, 60_000);

it('searches by identity number as an operator (audited) and refuses a viewer', async () => {
  const message = exampleFor('message', [units[0]!]) as unknown as { patient: { id: string }; messageId: string };
  message.patient.id = withCheckDigit('19500202123');
  await ingest('canonical', bytesOf(message as never, 'canonical'));
  await eventually(async () => ((await query(services.databaseUrl, 'SELECT 1 FROM messages WHERE message_id = $1', [message.messageId])).length > 0 ? true : undefined));
  const page = await pageAt(DESK);
  await page.goto(`${base}/#/messages?q=${message.patient.id.slice(2, 8)}-${message.patient.id.slice(8)}`);
  await page.waitForSelector(`#find-results >> text=${message.messageId}`);
  expect(await page.textContent('#find-results')).toContain('also by identity number');
  await screenshot(page, 'find-5-identity-operator');
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('h2 >> text=Audit log');
  expect(await page.textContent('main')).toContain('search-identity-number');
  await page.context().close();

  const viewerPage = await pageAt(DESK, VIEWER);
  await viewerPage.goto(`${base}/#/messages?q=${message.patient.id}`);
  await viewerPage.waitForSelector('main .error');
  expect(await viewerPage.textContent('main .error')).toBe('q: viewers may not search by an identity number');
  expect(await viewerPage.textContent('label[for=find-q]')).toContain('Message id or episode id');
  expect(await seriousA11yViolations(viewerPage)).toEqual([]);
  await screenshot(viewerPage, 'find-6-identity-viewer');
  await viewerPage.context().close();
}, 60_000);
