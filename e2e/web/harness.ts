// The web client's browser tests: a test server serving the built app (built here when it is missing or stale),
// one Chromium, and people signed in through the app's own form, each in a browser context of their own.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureWebClient } from '../../scripts/build-web-client.ts';
import { startTestServer, type TestServer, type TestUser } from '../../server/test/harness.ts';
import { chromiumInstalled, chromiumPath, launchChromium } from '../browser.ts';
import { ci, skipUnlessInstalled } from '../executable.ts';

/** Screenshots of every screen the tests visit (CI keeps them as artifacts). */
export const artifactsDir = fileURLToPath(new URL('./artifacts/', import.meta.url));

const missing = chromiumInstalled() ? [] : [`Chromium at ${chromiumPath} (apt-get install chromium)`];

/** `skip` for a web client suite: Chromium missing outside CI. */
export const skipWithoutChromium = () => skipUnlessInstalled(missing, 'web client browser tests');

export interface AppPage {
  user: TestUser;
  page: Page;
  context: BrowserContext;
  /** Uncaught errors and console errors of the page, for failure messages. */
  errors: string[];
  /** Keeps a screenshot of the page as `<name>.png` in the artifacts. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface WebApp {
  server: TestServer;
  /** A new person in a browser context of their own, signed in through the form, at `path`. */
  open(user: TestUser, path?: string, options?: { viewport?: { width: number; height: number } }): Promise<AppPage>;
  close(): Promise<void>;
}

export async function startWebApp(env: Record<string, string> = {}): Promise<WebApp> {
  if (ci && missing.length) throw new Error(`CI=true: missing ${missing.join(', ')}`);
  ensureWebClient();
  mkdirSync(artifactsDir, { recursive: true });
  const server = await startTestServer(env);
  let chromium;
  try {
    chromium = await launchChromium();
  } catch (err) {
    await server.close();
    throw err;
  }
  const contexts = new Set<BrowserContext>();
  return {
    server,
    async open(user, path = '/', options = {}) {
      const context = await chromium.browser.newContext({ baseURL: server.url, ...options });
      contexts.add(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`${user.username}: ${err.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`${user.username}: ${message.text()}`);
      });
      await signIn(page, user);
      if (path !== '/') await page.goto(path);
      return {
        user,
        page,
        context,
        errors,
        screenshot: async (name) => void (await page.screenshot({ path: `${artifactsDir}${name}.png`, fullPage: true })),
        async close() {
          contexts.delete(context);
          await context.close();
        },
      };
    },
    async close() {
      await Promise.all([...contexts].map((c) => c.close().catch(() => undefined)));
      await chromium.close();
      await server.close();
    },
  };
}

/** Signs in through the app's form and waits for the signed-in shell. */
export async function signIn(page: Page, user: TestUser): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username or email').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The status bar's text once it says `expected` (e.g. that every change is saved). */
export async function waitForStatus(page: Page, expected: RegExp): Promise<void> {
  const status = page.getByTestId('status');
  await status.filter({ hasText: expected }).waitFor({ timeout: 15_000 }).catch(async (err) => {
    assert.fail(`status is "${await status.textContent()}", not ${expected}: ${(err as Error).message}`);
  });
}

/** Changes the signed-in person's password through the account page's form (the page is at /account). */
export async function changePasswordInForm(page: Page, from: string, to: string): Promise<void> {
  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Current password').fill(from);
  await form.getByLabel('New password', { exact: true }).fill(to);
  await form.getByLabel('Repeat the new password').fill(to);
  await form.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Password changed').waitFor();
}
