import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { commands } from '../bin/commands/index.ts';
import { analyzeCommand } from '../bin/commands/analyze.ts';
import { evalCommand } from '../bin/commands/eval.ts';
import { evaluate } from '../lib/eval/index.ts';
import { progressBar } from '../lib/util/progress.ts';
import { parseNumber } from '../lib/util/options.ts';
import { FIELD_OPTIONS } from '../lib/corpus/mapping.ts';
import { randomRows, STUDENT_SHAPE, writeJsonl, writeTinyModel } from './distill-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-cli-hardening-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('CLI messages', () => {
  it('leaf --version prints the package version', () => {
    const leaf = fileURLToPath(new URL('../bin/leaf.js', import.meta.url));
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(execFileSync(process.execPath, [leaf, '--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });

  it('--help marks every required option as required', () => {
    for (const command of commands) {
      const required = command.options.filter((option) => option.mandatory);
      const help = command.helpInformation();
      expect(help.match(/\(required\)/g)?.length ?? 0, `leaf ${command.name()} --help`).toBe(required.length);
    }
    expect(analyzeCommand.helpInformation()).toMatch(/--data <file>\s+corpus[^\n]*(\n\s+[^-\s][^\n]*)*\(required\)/);
  });

  it('every command that reads a corpus takes every mapping flag a corpus error can name', () => {
    for (const name of ['analyze', 'prune', 'distill', 'eval']) {
      const flags = commands.find((c) => c.name() === name)!.options.map((o) => o.long);
      for (const { flag } of Object.values(FIELD_OPTIONS)) expect(flags, `leaf ${name}`).toContain(flag);
    }
  });

  it('a numeric flag refuses an empty or non-numeric value instead of reading it as 0', () => {
    const weight = parseNumber('--consistency-loss', { min: 0 });
    expect(() => weight('')).toThrow('--consistency-loss must be a number, got ""');
    expect(() => weight(' ')).toThrow(/must be a number/);
    expect(() => weight('abc')).toThrow(/must be a number/);
    expect(weight('4')).toBe(4);
  });

  it('a missing --data file is named with its option', async () => {
    const missing = join(root, 'no-such.jsonl');
    await expect(
      analyzeCommand.parseAsync(['--teacher', root, '--student', root, '--data', missing, '--out', join(root, 'out'), '--no-progress'], { from: 'user' }),
    ).rejects.toThrow(`--data ${missing}: no such file or directory`);
  });

  it('leaf eval with neither --checker nor --attributions refuses and says what it needs', async () => {
    const model = writeTinyModel(join(root, 'model'), STUDENT_SHAPE, 3, 0.02);
    const data = writeJsonl(join(root, 'eval.jsonl'), randomRows(2, 1));
    await expect(evaluate({ model, data, maxNewTokens: 2, batchSize: 2, backend: 'cpu', quiet: true })).rejects.toThrow(
      /nothing to measure: give --checker NAME .*, --attributions DIR .*, or both/,
    );
  });
});

describe('progress off a terminal', () => {
  it('every long-running command takes --no-progress', () => {
    for (const name of ['analyze', 'prune', 'distill', 'eval']) expect(commands.find((c) => c.name() === name)!.options.map((o) => o.long)).toContain('--no-progress');
    expect(evalCommand.options.find((o) => o.long === '--no-progress')!.description).toMatch(/progress/);
  });

  it('prints a plain line every ~10 % with done/total, rate and ETA, and one at the end', () => {
    const lines: string[] = [];
    const progress = progressBar('eval', 'samples', { write: (text: string) => lines.push(text) });
    progress.start(200, 0);
    for (let done = 1; done <= 200; done++) progress.update(done);
    progress.stop();
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(13);
    expect(lines[0]).toMatch(/^eval 0\/200 samples \(0%\)/);
    expect(lines[3]).toMatch(/^eval 60\/200 samples \(30%\) \| [\d.]+ samples\/s \| ETA (\d+s|\?)\n$/);
    expect(lines.at(-1)).toMatch(/^eval 200\/200 samples \(100%\) \| [\d.]+ samples\/s \| done\n$/);
  });

  it('prints a line after 30 s even when a tenth takes longer', async () => {
    const { progressLines } = await import('../lib/util/progress.ts');
    let clock = 0;
    const lines: string[] = [];
    const progress = progressLines('distill', 'steps', { write: (text: string) => lines.push(text) }, () => clock);
    progress.start(1000, 0);
    clock = 31_000;
    progress.update(1);
    clock = 32_000;
    progress.update(2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^distill 1\/1000 steps \(0%\) \| 0\.03 steps\/s \| ETA 8h 36m\n$/);
  });
});
