/**
 * Benchmark of `leaf report` at corpus scale: builds a report of N synthetic samples (default
 * 10 000; `--samples N`, `--tokens T` mean tokens per sample) and opens it repeatedly in headless
 * Chromium, printing the file size and the time to interactive (goal: < 2 s at 10k samples).
 *
 * Time to interactive = navigation start → the page has inflated the data, built its index,
 * rendered the overview with its charts and installed its handlers (the page stamps
 * <html data-ready> one animation frame after that). The breakdown comes from the page's own
 * performance marks. Each load uses a fresh browser context, so no cache carries over. Wall-clock
 * times depend on what else the machine runs (its load average is printed with them), so the
 * renderer main thread's CPU time up to that point is printed too (Chromium's TaskDuration in
 * thread ticks): on an idle core the wall-clock time approaches it. Synthetic scores are uniform
 * noise, which compresses worse than real gradient scores, so the size is an upper estimate for a
 * corpus of this shape.
 *
 *   npx tsx analyses/bench-report.ts [--samples 10000] [--tokens 64] [--runs 5] [--keep FILE]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport, launchChromium, openReport } from '../lib/report/index.ts';
import { syntheticAttributions } from '../lib/report/synthetic.ts';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '10000' },
    tokens: { type: 'string', default: '64' },
    runs: { type: 'string', default: '5' },
    keep: { type: 'string' },
  },
});
const samples = Number(values.samples);
const meanTokens = Number(values.tokens);
const runs = Number(values.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtMs = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

const rows = syntheticAttributions({ samples, meanTokens, seed: 7 });
const tokens = rows.reduce((sum, row) => sum + row.tokens.length, 0);
const textBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row.text), 0);
const buildStart = performance.now();
const html = buildReport({ attributions: rows, title: `bench: ${samples} synthetic samples`, generatedAt: 'bench' });
const buildMs = performance.now() - buildStart;

const dir = mkdtempSync(join(tmpdir(), 'leaf-bench-report-'));
const path = values.keep ?? join(dir, 'report.html');
writeFileSync(path, html);
const bytes = statSync(path).size;

const loadBefore = loadavg()[0];
const ready: number[] = [];
const mainThreadMs: number[] = [];
const phases: Record<string, number[]> = { inflate: [], index: [], render: [] };
const searchMs: number[] = [];
const nextSampleMs: number[] = [];
const errors: string[] = [];
const browser = await launchChromium();
try {
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
    const tasksBefore = await taskSeconds();
    await openReport(page, path);
    mainThreadMs.push((1000 * ((await taskSeconds()) - tasksBefore)));
    // A string, not a function: tsx would wrap inner functions in a helper the page lacks.
    const timing: Record<string, number> = await page.evaluate(`(() => {
      const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
      return { ready: Number(document.documentElement.dataset.ready), inflated: mark('leaf:inflated'), indexed: mark('leaf:indexed'), rendered: mark('leaf:rendered') };
    })()`);
    ready.push(timing.ready);
    phases.inflate.push(timing.inflated);
    phases.index.push(timing.indexed - timing.inflated);
    phases.render.push(timing.rendered - timing.indexed);

    // Interactions, timed from the test driver (includes the round trip to the browser).
    await page.keyboard.press('2');
    await page.waitForSelector('#sample-detail .heatmap');
    let start = performance.now();
    await page.fill('#search', 'rectangle area');
    await page.press('#search', 'Enter');
    await page.waitForFunction(() => /^1–\d+ of [\d,]+$/.test(document.getElementById('page-label')?.textContent ?? '') && document.querySelector('#sample-detail .heatmap'));
    searchMs.push(performance.now() - start);
    await page.focus('#sample-list .sample-item');
    const before = await page.textContent('#sample-id');
    start = performance.now();
    await page.keyboard.press('j');
    await page.waitForFunction((previous) => document.getElementById('sample-id')?.textContent !== previous, before);
    nextSampleMs.push(performance.now() - start);
    await context.close();
  }
} finally {
  await browser.close();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

console.log(`leaf report benchmark: ${samples.toLocaleString('en-US')} synthetic samples, ${tokens.toLocaleString('en-US')} tokens (${(tokens / samples).toFixed(1)} per sample), ${mb(textBytes)} of sample text`);
console.log(`  file size            ${mb(bytes)}  (${(bytes / samples).toFixed(0)} bytes per sample, ${(bytes / tokens).toFixed(2)} per token)`);
console.log(`  build (node)         ${buildMs.toFixed(0)} ms`);
console.log(`  time to interactive  ${fmtMs(ready)} over ${runs} loads  [goal < 2000 ms]`);
console.log(`    main-thread CPU    ${fmtMs(mainThreadMs)}  (what the page costs, independent of machine load)`);
console.log(`    inflate payload    ${fmtMs(phases.inflate)}  (from navigation start: read + parse HTML, base64, gunzip)`);
console.log(`    index corpus       ${fmtMs(phases.index)}`);
console.log(`    render overview    ${fmtMs(phases.render)}`);
console.log(`  search → list       ${fmtMs(searchMs)}  (driver round trip included)`);
console.log(`  next sample (j)     ${fmtMs(nextSampleMs)}`);
console.log(`  load average        ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after (2 cores shared)`);
if (errors.length) {
  console.log(`  console errors: ${errors.length}, first: ${errors[0]}`);
  process.exitCode = 1;
}
