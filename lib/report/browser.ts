import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { writeFileAtomic } from '../util/atomic.ts';

/** Flags measured to keep headless Chromium from stalling on refused network connections here. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function chromiumPath(): string {
  return process.env.LEAF_CHROMIUM || '/usr/bin/chromium';
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath))
    throw new Error(`Chromium not found at ${executablePath}: install it (apt-get install -y chromium) or set LEAF_CHROMIUM to its path`);
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new Error('rendering a PNG needs the npm package playwright-core (npm install playwright-core)');
  }
  return playwright.chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

/** Opens a report file in `page` and waits until its client has rendered (or reported an error). */
export async function openReport(page: Page, htmlPath: string, hash = ''): Promise<Page> {
  await page.goto(`${pathToFileURL(htmlPath).href}${hash}`);
  await page.waitForSelector('html[data-ready], html[data-error]');
  const error = await page.evaluate(() => (document.documentElement.dataset.error ? document.getElementById('app')?.textContent : null));
  if (error) throw new Error(`report ${htmlPath} failed to open: ${error}`);
  return page;
}

export type PngScore = 'delta' | 'teacher' | 'student';

export interface PngOptions {
  htmlPath: string;
  sampleId: string;
  outPath: string;
  score?: PngScore;
  /** CSS width of the figure; the PNG is rendered at 2× for print. */
  width?: number;
  /** A running browser to use (else one is launched and closed). */
  browser?: Browser;
}

/** Screenshots one sample's heatmap figure (text + legend) from the report page itself. */
export async function renderSamplePng({ htmlPath, sampleId, outPath, score = 'delta', width = 900, browser: running }: PngOptions): Promise<void> {
  const browser = running ?? (await launchChromium());
  try {
    const page = await browser.newPage({ viewport: { width: width + 420, height: 900 }, deviceScaleFactor: 2 });
    try {
      await openReport(page, htmlPath, `#sample=${encodeURIComponent(sampleId)}&score=${score}`);
      const shown = await page.evaluate(() => document.getElementById('sample-id')?.textContent ?? null);
      if (shown !== sampleId) throw new Error(`sample id ${JSON.stringify(sampleId)} is not in the report`);
      await page.mouse.move(0, 0);
      writeFileAtomic(outPath, await page.locator('#heatmap-figure').screenshot({ animations: 'disabled' }));
    } finally {
      await page.close();
    }
  } finally {
    if (!running) await browser.close();
  }
}
