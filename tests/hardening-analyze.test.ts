import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAnalyze } from '../lib/analyze/index.ts';
import { readManifest } from '../lib/corpus/index.ts';
import { analyzeOptions, corpusLines, writeAnalyzeFixture, writeCorpus, type AnalyzeFixture } from './helpers/analyze-fixtures.ts';

let fixture: AnalyzeFixture;
let data: string;
let reference: Buffer;
let referenceDir: string;
let unfinished: string;

async function quietly<T>(work: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const value = await work();
    return { value, stderr: spy.mock.calls.map((call) => String(call[0])).join('') };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  fixture = writeAnalyzeFixture();
  data = writeCorpus(fixture.root, 'corpus.jsonl', corpusLines(24));
  referenceDir = join(fixture.root, 'reference');
  await runAnalyze(analyzeOptions(fixture, data, referenceDir));
  reference = readFileSync(join(referenceDir, 'attributions.arrow'));
  // Every batch committed, then the output write fails: the state of a kill at the start of finalisation.
  unfinished = join(fixture.root, 'unfinished');
  mkdirSync(join(unfinished, 'attributions.arrow', 'blocker'), { recursive: true });
  await expect(runAnalyze(analyzeOptions(fixture, data, unfinished))).rejects.toThrow(/cannot write attributions to .*attributions\.arrow/);
  rmSync(join(unfinished, 'attributions.arrow'), { recursive: true });
});

afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

describe('analyze finalisation: every crash point resumes to the same output', () => {
  const crashPoints: [string, (dir: string) => void][] = [
    ['before the attributions file is written', () => {}],
    ['after the attributions file, before the manifest', (dir) => copyFileSync(join(referenceDir, 'attributions.arrow'), join(dir, 'attributions.arrow'))],
    [
      'after the manifest, before the run is marked finished',
      (dir) => {
        copyFileSync(join(referenceDir, 'attributions.arrow'), join(dir, 'attributions.arrow'));
        copyFileSync(join(referenceDir, 'manifest.json'), join(dir, 'manifest.json'));
      },
    ],
    [
      'after the run is marked finished, before its parts are removed',
      (dir) => {
        copyFileSync(join(referenceDir, 'attributions.arrow'), join(dir, 'attributions.arrow'));
        copyFileSync(join(referenceDir, 'manifest.json'), join(dir, 'manifest.json'));
        const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
        writeFileSync(join(dir, 'run.json'), JSON.stringify({ ...run, finalized: join(dir, 'attributions.arrow') }));
      },
    ],
  ];

  it.each(crashPoints)('killed %s', async (_, crash) => {
    const dir = `${unfinished}-${Math.random().toString(36).slice(2)}`;
    cpSync(unfinished, dir, { recursive: true });
    expect(existsSync(join(dir, 'parts'))).toBe(true);
    crash(dir);
    const { value: result } = await quietly(() => runAnalyze(analyzeOptions(fixture, data, dir, { resume: true })));
    expect(readFileSync(result.attributions!).equals(reference)).toBe(true);
    expect(readManifest(join(dir, 'manifest.json')).counts.done).toBe(24);
    expect(existsSync(join(dir, 'parts'))).toBe(false);
    const again = await quietly(() => runAnalyze(analyzeOptions(fixture, data, dir, { resume: true })));
    expect(again.stderr).toMatch(/is complete .*: nothing to do/);
  });

  it('--resume on a finished run succeeds and says it is complete; other options are refused', async () => {
    const { value, stderr } = await quietly(() => runAnalyze(analyzeOptions(fixture, data, referenceDir, { resume: true })));
    expect(stderr).toMatch(`the run in ${referenceDir} is complete (${join(referenceDir, 'attributions.arrow')}): nothing to do`);
    expect(value.manifest.counts.done).toBe(24);
    expect(readFileSync(join(referenceDir, 'attributions.arrow')).equals(reference)).toBe(true);
    await expect(runAnalyze(analyzeOptions(fixture, data, referenceDir, { resume: true, rule: 'absolute:tau=0.1' }))).rejects.toThrow(
      /is finished with another configuration/,
    );
    await expect(runAnalyze(analyzeOptions(fixture, data, referenceDir))).rejects.toThrow(/is finished: .*--resume, which confirms it is complete/);
  });
});
