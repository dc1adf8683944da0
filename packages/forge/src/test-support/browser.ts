/**
 * Real headless Chromium for the dashboard's tests and benchmark: Debian's `chromium`
 * (/usr/bin/chromium) driven by playwright-core (no browser download). Launching is the
 * probe: where it fails the test is skipped with the reason, except under CI (CI=true),
 * where .ci/run installs chromium and a failure to launch fails the test.
 */
import type { TestContext } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where Debian puts Chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launches headless Chromium.
 * @throws Error when it cannot be launched (the message says why)
 */
export async function launchChromium(): Promise<Browser> {
  try {
    // Chromium refuses to run as root with its sandbox on (CI containers run as root); the
    // pages it opens here are the dashboard's own.
    const args = ['--disable-dev-shm-usage', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
    return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args });
  } catch (error) {
    throw new Error(`headless Chromium (${CHROMIUM_PATH}) does not start: ${(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''}`, { cause: error });
  }
}

/** One browser shared by the tests of a file, launched on first use. */
export class SharedBrowser {
  #launched: Promise<Browser> | undefined;

  /**
   * The browser, or undefined after skipping `t` with the reason it cannot start
   * (under CI: throws instead).
   */
  async for(t: TestContext): Promise<Browser | undefined> {
    this.#launched ??= launchChromium();
    try {
      return await this.#launched;
    } catch (error) {
      const reason = (error as Error).message;
      if (inCi()) throw new Error(`${reason}; CI must install it (.ci/run installs the Debian package chromium)`, { cause: error });
      t.skip(reason);
      return undefined;
    }
  }

  async close(): Promise<void> {
    const launched = this.#launched;
    this.#launched = undefined;
    await launched?.then((browser) => browser.close()).catch(() => undefined);
  }
}

/** A dashboard tab, with what it sent and what went wrong in it. */
export interface DashboardTab {
  readonly page: Page;
  /** Every request the page made: its URL and Authorization header. */
  readonly requests: { readonly url: string; readonly authorization: string | undefined }[];
  /** Uncaught errors, CSP and Trusted Types violations, console errors other than refused requests. */
  readonly problems: string[];
  close(): Promise<void>;
}

/** Opens `url` (the daemon's `/ui`, maybe with a fragment) in a new context of `browser`. */
export async function openDashboard(browser: Browser, url: string): Promise<DashboardTab> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const requests: DashboardTab['requests'] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers()['authorization'] }));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A refused API request (the test's wrong token, a 404 panel) is logged by Chromium as a console error; it is not a fault of the page.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, requests, problems, close: () => context.close() };
}

/** Logs in through the form with `token`. */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.locator('#login-token').fill(token);
  await page.locator('#login-submit').click();
}
