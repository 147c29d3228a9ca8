import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyze, type AnalyzeResult } from '../lib/analyze/index.ts';
import { readAttributions, readManifest, sha256File } from '../lib/corpus/index.ts';
import { analyzeOptions, corpusLines, writeAnalyzeFixture, writeCorpus, type AnalyzeFixture } from './helpers/analyze-fixtures.ts';

let fixture: AnalyzeFixture;
let data: string;
let uninterrupted: AnalyzeResult;
const SAMPLES = 200;

beforeAll(async () => {
  fixture = writeAnalyzeFixture();
  data = writeCorpus(fixture.root, 'corpus.jsonl', corpusLines(SAMPLES));
  uninterrupted = await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, 'whole')), { command: ['analyze', 'test'] });
});

afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

describe('leaf analyze on a corpus', () => {
  it('writes one row per sample in corpus order, and a manifest', async () => {
    const rows = await readAttributions(uninterrupted.attributions!);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: SAMPLES }, (_, i) => `q${i}`));
    expect(rows.every((r) => r.region === 'instruction' && r.tokens.length === r.delta.length && r.flagged.some(Boolean))).toBe(true);
    const manifest = readManifest(join(uninterrupted.dir, 'manifest.json'));
    expect(manifest).toMatchObject({
      step: 'analyze',
      command: ['analyze', 'test'],
      backend: 'cpu',
      method: 'grad-l2',
      rule: { name: 'percentile', p: 0.05, cap: 0.5 },
      data: { path: data, sha256: await sha256File(data) },
      counts: { done: SAMPLES, skipped: [], samples: SAMPLES, rows: SAMPLES },
    });
    expect(manifest.models.teacher).toMatchObject({ path: fixture.teacher, architecture: 'llama', weights: [{ file: 'model.safetensors', sha256: await sha256File(join(fixture.teacher, 'model.safetensors')) }] });
    expect(manifest.models.student.architecture).toBe('qwen2');
    expect(Object.keys(manifest.timings)).toEqual(expect.arrayContaining(['load', 'score', 'write', 'total']));
    expect(existsSync(join(uninterrupted.dir, 'parts'))).toBe(false);
  });

  it('kill -9 in the middle, then --resume: the same file as an uninterrupted run', async () => {
    const out = join(fixture.root, 'killed');
    const args = ['bin/leaf.js', 'analyze', '--teacher', fixture.teacher, '--student', fixture.student, '--data', data, '--out', out, '--id-field', 'id', '--batch-size', '4', '--backend', 'cpu', '--no-progress', '--method', 'grad-l2'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const parts = () => (existsSync(join(out, 'parts')) ? readdirSync(join(out, 'parts')).filter((f) => f.endsWith('.arrow')).length : 0);
    const deadline = Date.now() + 45_000;
    while (parts() < 3 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const committed = parts();
    expect(committed, stderr).toBeGreaterThanOrEqual(3);
    expect(committed).toBeLessThan(SAMPLES / 4);
    expect(existsSync(join(out, 'attributions.arrow'))).toBe(false);

    await expect(runAnalyze(analyzeOptions(fixture, data, out))).rejects.toThrow(/holds an unfinished run; resume it \(--resume\)/);
    await expect(runAnalyze(analyzeOptions(fixture, data, out, { resume: true, mergeGap: 1 }))).rejects.toThrow(/cannot resume the run .*fingerprint/);
    const resumed = await runAnalyze(analyzeOptions(fixture, data, out, { resume: true }));
    expect(readFileSync(resumed.attributions!)).toEqual(readFileSync(uninterrupted.attributions!));
    expect(resumed.manifest.counts.done).toBe(SAMPLES);
  }, 60_000);

  it('shards merged by leaf merge equal the unsharded file', async () => {
    const { mergeAnalyzeShards } = await import('../lib/analyze/index.ts');
    const shards = [0, 1].map((i) => join(fixture.root, `shard-${i}`));
    // Shards take whole length-bucketing windows (batch size 4 × 16 samples): 0-63 and 64-79.
    for (const [i, dir] of shards.entries()) {
      const result = await runAnalyze(analyzeOptions(fixture, data, dir, { shard: `${i}/2`, limit: 80 }));
      expect(result.attributions).toBeUndefined();
      expect(result.manifest.shard).toEqual({ index: i, count: 2, block: 64 });
      expect(result.manifest.counts.done).toBe([64, 16][i]);
    }
    const merged = await mergeAnalyzeShards(shards, { out: join(fixture.root, 'merged'), arrowFormat: 'stream' });
    const whole = await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, 'whole-80'), { limit: 80 }));
    expect(readFileSync(merged.attributions!)).toEqual(readFileSync(whole.attributions!));
    expect(merged.manifest.counts).toMatchObject({ done: 80, samples: 80, rows: 80 });
    await expect(mergeAnalyzeShards([shards[0]], { out: join(fixture.root, 'merged-1'), arrowFormat: 'stream' })).rejects.toThrow(/shard 1\/2 missing/);
  }, 60_000);
});
