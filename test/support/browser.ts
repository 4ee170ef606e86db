import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** The web console in headless Chromium (Debian's package, installed by .ci/run), driven by playwright-core. */
// CHROMIUM_PATH, else Debian's /usr/bin/chromium, else Playwright's own (scripts/dev-services.sh installs it on Ubuntu).
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : chromium.executablePath());

/** Screenshots of the browser tests land here (printed by the tests; look at them). */
export const SCREENS = join(tmpdir(), 'svu-console-screens');

/** Desk and phone sizes the console must work at. */
export const DESK = { width: 1366, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (the CI script does) or Playwright's (scripts/dev-services.sh on Ubuntu), or set CHROMIUM_PATH`);
  mkdirSync(SCREENS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Signs in through the form and waits for the overview. */
export async function signIn(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(base);
  await page.fill('input[name=username]', user.username);
  await page.fill('input[name=password]', user.password);
  await page.click('button[type=submit]');
  // Attached, not visible: at phone width the navigation is folded behind the Menu button.
  await page.waitForSelector('nav:not([hidden])', { state: 'attached' });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const AXE_SOURCE = (): string => readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as shown and returns its violations of impact serious or critical
 * (a test expects none). axe is injected through the DevTools protocol (page.evaluate), which the
 * console's Content-Security-Policy does not govern.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // Strings, not functions: the tests compile without the DOM library.
  const loaded = await page.evaluate<boolean>('typeof window.axe !== "undefined"');
  if (!loaded) await page.evaluate(AXE_SOURCE());
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** True when the page's main content is wider than the viewport (sideways scrolling). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth + 1');
}
