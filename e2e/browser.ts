// Debian's Chromium driven by playwright-core, with fake camera, microphone and screen, loading the test page
// (call-page.ts bundled with the reference client) from a tiny local HTTP server. Participants are contexts of
// one browser: one browser process is what two cores can afford.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundleForBrowser } from './bundle.ts';
import { isExecutable } from './executable.ts';
import type { PageApi } from './call-page.ts';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumInstalled = (): boolean => isExecutable(chromiumPath);

/** The flags checked in shared/PLATFORM.md ("Browser tests"); the fake devices also answer getDisplayMedia. */
const flags = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  // The pages play received audio without a click.
  '--autoplay-policy=no-user-gesture-required',
];

/** One second of a 440 Hz tone (16-bit mono PCM at 48 kHz); Chromium loops it as the fake microphone. */
function toneWav(): Buffer {
  const rate = 48_000;
  const samples = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++) samples.writeInt16LE(Math.round(10_000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]);
}

export interface Participant {
  name: string;
  page: Page;
  /** Calls one of the page's `window.e2e` functions. */
  run<K extends keyof PageApi>(fn: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>>;
  /** The page's uncaught errors and console errors, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

export interface CallBrowser {
  /** Where the test page is served: the server's CORS_ORIGINS must include it for TURN credentials. */
  origin: string;
  /** A new participant in its own browser context, with the test page loaded. */
  open(name: string): Promise<Participant>;
  close(): Promise<void>;
}

/** Chromium with the fake devices (a tone as microphone); `close` also removes the tone's directory. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'teamspace-e2e-'));
  const tone = path.join(dir, 'tone.wav');
  await writeFile(tone, toneWav());
  try {
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [...flags, `--use-file-for-fake-audio-capture=${tone}`],
      timeout: 30_000,
    });
    return {
      browser,
      async close() {
        await browser.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function launchCallBrowser(): Promise<CallBrowser> {
  const script = await bundleForBrowser(fileURLToPath(new URL('./call-page.ts', import.meta.url)));
  const html = '<!doctype html><meta charset="utf-8"><title>call</title><script src="/call-page.js"></script>';
  const http = createServer((req, res) => {
    const [type, body] = req.url === '/call-page.js' ? ['text/javascript', script] : ['text/html', html];
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const closeHttp = async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };

  let launched;
  try {
    launched = await launchChromium();
  } catch (err) {
    await closeHttp();
    throw err;
  }
  const { browser } = launched;

  return {
    origin,
    async open(name) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`${name}: ${err.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`${name}: ${message.text()}`);
      });
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => 'e2e' in globalThis, undefined, { timeout: 10_000 });
      return {
        name,
        page,
        errors,
        run: (fn, ...args) =>
          page.evaluate(
            ([fn, args]) => ((globalThis as unknown as { e2e: PageApi }).e2e[fn] as (...a: unknown[]) => unknown)(...args),
            [fn, args] as const,
          ) as never,
        close: () => context.close(),
      };
    },
    async close() {
      await launched.close();
      await closeHttp();
    },
  };
}
