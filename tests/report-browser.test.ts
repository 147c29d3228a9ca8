/**
 * The report in real headless Chromium (Debian `chromium` + playwright-core): token colours of a
 * known sample, tooltips, search, paging, keyboard, counterfactuals, training view, escaping of
 * hostile text, the `leaf report` CLI with `--png`. Screenshots are kept in tests/artifacts/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRows } from '../lib/corpus/index.ts';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { buildReport, launchChromium, loadReportInput, openReport, readRun, renderSamplePng } from '../lib/report/index.ts';
import { syntheticAttributions } from '../lib/report/synthetic.ts';
import type { ReportPrunedRow } from '../lib/report/types.ts';

const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const temp = mkdtempSync(join(tmpdir(), 'leaf-report-browser-'));
const HOSTILE = `<script>window.__pwned = 1</script> "double" 'single' </div> </script> <img src=x onerror="window.__pwned = 2"> &amp; <b>bold</b>`;

/** ColorBrewer stops the page documents (client/colors.js): PuOr/RdBu halves for Δ, YlGnBu for scores. */
const DIVERGING_AT = { '-1': 'rgb(179, 88, 6)', '-0.5': 'rgb(253, 184, 99)', '0': 'rgb(247, 247, 247)', '0.5': 'rgb(146, 197, 222)', '1': 'rgb(33, 102, 172)' };
const SEQUENTIAL_AT = { '0': 'rgb(255, 255, 217)', '0.25': 'rgb(199, 233, 180)', '0.5': 'rgb(65, 182, 196)', '0.75': 'rgb(34, 94, 168)', '1': 'rgb(8, 29, 88)' };

/** Δ = -1, -0.5, 0, 0.5, 1 by construction, so each token sits exactly on a palette stop. */
function knownRow(): AttributionRow {
  const teacherNorm = [0, 0.25, 0.5, 0.75, 1];
  const studentNorm = [1, 0.75, 0.5, 0.25, 0];
  return {
    id: 'known',
    region: 'instruction',
    text: 'alpha beta gamma delta epsilon',
    tokens: ['alpha', ' beta', ' gamma', ' delta', ' epsilon'],
    char_start: [0, 5, 10, 16, 22],
    char_end: [5, 10, 16, 22, 30],
    teacher_score: teacherNorm.map((t) => 0.1 + 0.4 * t),
    // Not an affine function of student_norm (as after a cross-tokenizer projection): stored per token.
    student_score: [5, 4.5, 3, 2, 1],
    teacher_norm: teacherNorm,
    student_norm: studentNorm,
    delta: teacherNorm.map((t, i) => t - studentNorm[i]),
    flagged: [true, true, false, false, false],
    spans: [{ start: 0, end: 10 }],
    teacher_loss: 0.25,
    student_loss: 2,
    threshold: -0.5,
  };
}

function hostileRow(): AttributionRow {
  const text = HOSTILE;
  const cuts = [0, 8, 30, 40, 60, 80, 100, text.length];
  const n = cuts.length - 1;
  const norm = Array.from({ length: n }, (_, i) => i / (n - 1));
  return {
    id: `evil"><img src=x onerror="window.__pwned = 3">`,
    region: 'instruction',
    text,
    tokens: cuts.slice(0, -1).map((c, i) => text.slice(c, cuts[i + 1])),
    char_start: cuts.slice(0, -1),
    char_end: cuts.slice(1),
    teacher_score: norm,
    student_score: norm.map((x) => 1 - x),
    teacher_norm: norm,
    student_norm: norm.map((x) => 1 - x),
    delta: norm.map((x) => 2 * x - 1),
    flagged: norm.map((_, i) => i < 2),
    spans: [{ start: 0, end: 30 }],
    teacher_loss: 1,
    student_loss: 1,
    threshold: 0,
  };
}

const prunedBase = { input: '', output: 'answer', answer: '42', mode: 'span' as const, level: 'instruction' as const, rule: 'percentile', threshold: 0.1, weight: 0.5 };
const pruned: ReportPrunedRow[] = [
  { ...prunedBase, id: 'known', source_id: 'known', kind: 'original', instruction: 'alpha beta gamma delta epsilon', removed_spans: [], removed_chars: 0, verified: null },
  { ...prunedBase, id: 'known#1', source_id: 'known', kind: 'counterfactual', instruction: 'beta gamma delta epsilon', removed_spans: [{ start: 0, end: 6, text: 'alpha ' }], removed_chars: 6, verified: true },
  { ...prunedBase, id: 'evil#1', source_id: hostileRow().id, kind: 'counterfactual', instruction: HOSTILE.slice(8), answer: HOSTILE, removed_spans: [{ start: 0, end: 8, text: HOSTILE.slice(0, 8) }], removed_chars: 8, verified: false, extra: { teacher_answer: HOSTILE } },
];

function writeRun(dir: string, name: string, accuracy: number, mass: number) {
  mkdirSync(dir, { recursive: true });
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ kind: 'train', step: i + 1, lr: 1e-4, loss: 2 / (i + 1) + accuracy, loss_terms: { kd: 1 / (i + 1) }, grad_norm: 1, tokens_per_s: 500 }));
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'eval-test.json'), JSON.stringify({ accuracy, attention_mass: mass, n: 200, flagged_token_fraction: 0.08 }));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ name }));
}

const rows = [...syntheticAttributions({ samples: 120, seed: 3, meanTokens: 40 }), knownRow(), hostileRow()];
const kdDir = join(temp, 'kd');
const leafDir = join(temp, 'leaf');
writeRun(kdDir, 'KD', 0.5, 0.2);
writeRun(leafDir, HOSTILE, 0.6, 0.1);
const manifest = { command: [HOSTILE], method: 'grad-l2', counts: { done: 122, skipped: [{ index: 7, reason: 'empty instruction' }, { id: HOSTILE, reason: HOSTILE }] } };
const reportPath = join(temp, 'report.html');
writeFileSync(reportPath, buildReport({ attributions: rows, manifest, pruned, pruneSummary: { flip_rate: 0.25 }, runs: [readRun(kdDir), readRun(leafDir)], title: HOSTILE, generatedAt: '2025-01-02T03:04:05Z' }));

let browser: Browser;
let page: Page;
const problems: string[] = [];
const dialogs: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await openReport(page, reportPath);
});

afterAll(async () => {
  await browser?.close();
  rmSync(temp, { recursive: true, force: true });
});

/** Background colours of the main heatmap's tokens, in order. */
const tokenColours = () => page.$$eval('#heatmap .tok', (nodes) => nodes.map((n) => [n.textContent, getComputedStyle(n).backgroundColor]));

describe('leaf report in headless Chromium', () => {
  it('opens on the overview with the corpus counts, charts and skip reasons', async () => {
    await page.screenshot({ path: join(ARTIFACTS, 'report-overview.png'), fullPage: true });
    const cards = await page.$$eval('#view-overview .card', (nodes) => nodes.map((n) => [n.querySelector('.label')?.textContent, n.querySelector('.value')?.textContent]));
    expect(cards).toContainEqual(['Samples', '122']);
    expect(cards).toContainEqual(['Skipped', '2']);
    expect(cards).toContainEqual(['Counterfactuals', '2']);
    // Each count once: the manifest's done (= samples here) gets no card of its own.
    const labels = cards.map(([label]) => label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).not.toContain('Done');
    expect(await page.locator('#chart-delta canvas').count()).toBe(1);
    expect(await page.locator('#chart-spans canvas').count()).toBe(1);
    expect(await page.textContent('#view-overview')).toContain('empty instruction');
  });

  it('colours the known sample’s tokens by Δ on the documented scale and outlines the flagged span', async () => {
    await page.goto(`${page.url().split('#')[0]}#sample=known`);
    await page.waitForSelector('#sample-id');
    expect(await page.textContent('#sample-id')).toBe('known');
    expect(await tokenColours()).toEqual([
      ['alpha', DIVERGING_AT['-1']],
      ['beta', DIVERGING_AT['-0.5']],
      ['gamma', DIVERGING_AT['0']],
      ['delta', DIVERGING_AT['0.5']],
      ['epsilon', DIVERGING_AT['1']],
    ]);
    expect(await page.$$eval('#heatmap mark.flag', (marks) => marks.map((m) => m.textContent))).toEqual(['alpha beta']);
    expect(await page.textContent('#heatmap')).toBe('alpha beta gamma delta epsilon');
    await page.locator('#heatmap-figure').screenshot({ path: join(ARTIFACTS, 'report-heatmap-delta.png') });
  });

  it('switches to teacher scores with the keyboard and shows both models side by side', async () => {
    await page.locator('body').press('t');
    expect(await tokenColours()).toEqual([
      ['alpha', SEQUENTIAL_AT['0']],
      ['beta', SEQUENTIAL_AT['0.25']],
      ['gamma', SEQUENTIAL_AT['0.5']],
      ['delta', SEQUENTIAL_AT['0.75']],
      ['epsilon', SEQUENTIAL_AT['1']],
    ]);
    expect(page.url()).toContain('score=teacher');
    const student = await page.$$eval('#compare-student .tok', (nodes) => nodes.map((n) => getComputedStyle(n).backgroundColor));
    expect(student).toEqual([SEQUENTIAL_AT['1'], SEQUENTIAL_AT['0.75'], SEQUENTIAL_AT['0.5'], SEQUENTIAL_AT['0.25'], SEQUENTIAL_AT['0']]);
    // Each row has its own legend, labelled for its model.
    expect(await page.textContent('#compare-teacher .legend')).toContain('Teacher sensitivity');
    expect(await page.textContent('#compare-student .legend')).toContain('Student sensitivity');
    expect(await page.textContent('#compare-student .legend')).not.toContain('Teacher');
    await page.locator('body').press('d');
  });

  it('shows token, raw and normalised scores on hover', async () => {
    await page.hover('#heatmap .tok >> nth=1');
    const tip = await page.textContent('#tooltip');
    expect(await page.isVisible('#tooltip')).toBe(true);
    expect(tip).toContain('·beta'); // leading space made visible
    expect(tip).toContain('token 2 of 5');
    expect(tip).toContain('flagged');
    // teacher raw 0.1 + 0.4·0.25 = 0.2 (derived), student raw 4.5 (stored per token), Δ = 0.25 − 0.75
    const cells = await page.$$eval('#tooltip tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent)));
    expect(cells).toEqual([
      ['', 'raw', 'normalised'],
      ['teacher', '0.2000', '0.250'],
      ['student', '4.500', '0.750'],
      ['Δ', '', '-0.500'],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-sample.png'), fullPage: true });
    await page.mouse.move(1, 1);
  });

  it('strikes through the removed text of the sample’s counterfactual and shows its verification', async () => {
    const cf = page.locator('#counterfactuals .cf').first();
    expect(await cf.locator('del').allTextContents()).toEqual(['alpha ']);
    expect(await cf.locator('.cf-text').textContent()).toBe('alpha beta gamma delta epsilon');
    expect(await cf.textContent()).toContain('verified');
  });

  it('searches by id and by text, pages and moves through samples with the keyboard', async () => {
    await page.locator('body').press('/');
    await page.keyboard.type('sample-000042');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#page-label')).toBe('1–1 of 1');
    expect(await page.textContent('#sample-id')).toBe('sample-000042');

    await page.fill('#search', 'EPSILON');
    await page.press('#search', 'Enter');
    await expect.poll(() => page.textContent('#page-label')).toBe('1–1 of 1');
    expect(await page.textContent('#sample-id')).toBe('known');

    await page.fill('#search', '');
    await page.press('#search', 'Enter');
    await expect.poll(() => page.textContent('#page-label')).toBe('1–50 of 122');
    await page.locator('#search').blur();
    expect(await page.textContent('#sample-id')).toBe('sample-000000');
    await page.locator('body').press('j');
    expect(await page.textContent('#sample-id')).toBe('sample-000001');
    await page.locator('body').press(']');
    expect(await page.textContent('#page-label')).toBe('51–100 of 122');
    expect(await page.textContent('#sample-id')).toBe('sample-000050');
    await page.click('#page-next');
    expect(await page.textContent('#page-label')).toBe('101–122 of 122');
    expect(await page.locator('#page-next').isDisabled()).toBe(true);
    await page.click('#page-prev');
    expect(await page.textContent('#page-label')).toBe('51–100 of 122');
  });

  it('opens and closes the keyboard help', async () => {
    await page.locator('body').press('?');
    expect(await page.isVisible('dialog#help')).toBe(true);
    await page.click('dialog#help button');
    expect(await page.isVisible('dialog#help')).toBe(false);
  });

  it('sorts by flagged fraction', async () => {
    await page.selectOption('#sort', 'flagged-desc');
    const fractions = await page.$$eval('#sample-list .frac', (nodes) => nodes.map((n) => Number.parseFloat(n.textContent ?? '')));
    expect(fractions.length).toBe(50);
    expect(fractions).toEqual([...fractions].sort((a, b) => b - a));
    // The known sample flags 2 of 5 tokens, more than any synthetic one (≈8 %).
    expect(await page.textContent('#sample-list .sample-item .sid')).toBe('known');
    await page.selectOption('#sort', 'corpus');
  });

  it('lists the samples of a most-flagged token from the overview', async () => {
    await page.locator('body').press('1');
    const first = page.locator('#view-overview table.data').filter({ hasText: 'Times flagged' }).first().locator('tbody tr').first();
    const count = Number(await first.locator('button').textContent());
    const term = await first.locator('.term').textContent();
    await first.locator('button').click();
    expect(await page.isVisible('#view-samples')).toBe(true);
    expect(await page.textContent('#term-filter')).toContain(term ?? '');
    expect(await page.textContent('#page-label')).toBe(count > 50 ? `1–50 of ${count}` : `1–${count} of ${count}`);
    // The selected sample really has the term among its flagged tokens.
    const flagged = await page.$$eval('#heatmap mark.flag .tok', (nodes) => nodes.map((n) => n.textContent?.trim()));
    expect(flagged).toContain(term);
    await page.click('#term-filter button');
  });

  it('plots the training runs and compares their evaluations', async () => {
    await page.locator('body').press('3');
    expect(await page.locator('#chart-training canvas').count()).toBe(1);
    const table = await page.$$eval('#eval-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children, (c) => c.textContent)));
    expect(table).toEqual([
      ['KD', 'test', '200', '50.0%', '', '0.200', '', '8.0%'],
      [HOSTILE, 'test', '200', '60.0%', '+10.0 pts', '0.100', '-50%', '8.0%'],
    ]);
    await page.selectOption('#metric', 'term:kd');
    expect(await page.locator('#chart-training canvas').count()).toBe(1);
    // Smoothed by default, the raw curve drawn faintly beside it; 'raw only' turns smoothing off.
    const legend = () => page.$$eval('#chart-training .u-legend .u-series .u-label', (nodes) => nodes.map((n) => n.textContent));
    expect(await page.inputValue('#smoothing')).toBe('0.8');
    expect(await legend()).toEqual(['step', 'KD', 'KD (raw)', HOSTILE, `${HOSTILE} (raw)`]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-training-smoothed.png'), fullPage: true });
    await page.selectOption('#smoothing', '0');
    expect(await legend()).toEqual(['step', 'KD', HOSTILE]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-training.png'), fullPage: true });
  });

  it('shows hostile text literally and never runs it', async () => {
    await page.goto(`${page.url().split('#')[0]}#sample=${encodeURIComponent(hostileRow().id)}`);
    await page.waitForSelector('#sample-id');
    expect(await page.textContent('#sample-id')).toBe(hostileRow().id);
    expect(await page.textContent('#heatmap')).toBe(HOSTILE);
    expect(await page.textContent('#title')).toBe(HOSTILE);
    expect(await page.title()).toBe(`${HOSTILE} · leaf`);
    expect(await page.textContent('#counterfactuals')).toContain(HOSTILE);
    await page.locator('body').press('1');
    expect(await page.textContent('#view-overview')).toContain(HOSTILE);
    // Nothing became markup: only the page's own three scripts, no injected elements, no handlers ran.
    expect(await page.locator('script').count()).toBe(3);
    expect(await page.locator('#app img, #app script, [onerror]').count()).toBe(0);
    expect(await page.locator('b', { hasText: 'bold' }).count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it('logged no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});

describe('leaf report CLI', () => {
  it('reads analyze/prune/distill outputs, writes the report and a PNG of one sample', async () => {
    const analyzeDir = join(temp, 'analysis');
    mkdirSync(analyzeDir, { recursive: true });
    await writeRows(join(analyzeDir, 'attributions.arrow'), [knownRow(), ...rows.slice(0, 5)], 'attributions');
    writeFileSync(join(analyzeDir, 'manifest.json'), JSON.stringify({ counts: { done: 6, skipped: 0 } }));
    const prunedPath = join(temp, 'pruned', 'pruned.arrow');
    mkdirSync(join(temp, 'pruned'));
    await writeRows(prunedPath, pruned.slice(0, 2), 'pruned');
    writeFileSync(join(temp, 'pruned', 'summary.json'), JSON.stringify({ flip_rate: 0.5 }));
    const out = join(temp, 'cli', 'report.html');
    const png = join(ARTIFACTS, 'report-cli-known.png');
    rmSync(png, { force: true });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/leaf.js', 'report', '--attributions', analyzeDir, '--pruned', prunedPath, '--runs', kdDir, leafDir, '--out', out, '--png', 'known', '--png-out', png],
      { cwd: join(import.meta.dirname, '..') },
    );
    expect(stdout).toContain(`wrote ${out} (6 analysed regions`);
    expect(stdout).toContain(`wrote ${png}`);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // IHDR: width and height at bytes 16..24; the figure is rendered at 2× device pixels.
    expect(bytes.readUInt32BE(16)).toBeGreaterThan(1000);
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(100);

    const cliPage = await browser.newPage();
    await openReport(cliPage, out, '#sample=known');
    expect(await cliPage.$$eval('#heatmap .tok', (nodes) => nodes.length)).toBe(5);
    expect(await cliPage.$$eval('#counterfactuals del', (nodes) => nodes.map((n) => n.textContent))).toEqual(['alpha ']);
    await cliPage.locator('body').press('1');
    expect(await cliPage.textContent('#view-overview')).toContain('50.0%'); // flip rate from summary.json
    await cliPage.close();
    expect(existsSync(out)).toBe(true);
  });

  it('fails with a clear message when the attributions are missing or the sample is unknown', async () => {
    await expect(loadReportInput({ attributions: join(temp, 'nowhere') })).rejects.toThrow(/--attributions .*nowhere: no such file or directory/);
    await expect(loadReportInput({ attributions: temp })).rejects.toThrow(/no attributions.arrow in it/);
    await expect(renderSamplePng({ htmlPath: reportPath, sampleId: 'no-such-id', outPath: join(temp, 'none.png'), browser })).rejects.toThrow(/sample id "no-such-id" is not in the report/);
    expect(existsSync(join(temp, 'none.png'))).toBe(false);
  });
});
