// analyze's pre-flight: a run that cannot fit is refused before anything is written, naming the
// numbers and what to change; a folder given as teacher and student is loaded once; the manifest
// records the dtype each model was held in.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSides, runAnalyze } from '../lib/analyze/index.ts';
import { readManifest } from '../lib/corpus/index.ts';
import { estimateAnalyzeMemory, type HeldWeights } from '../lib/runtime/memory.ts';
import { readConfig } from '../lib/models/index.ts';
import { analyzeOptions, corpusLines, writeAnalyzeFixture, writeCorpus, type AnalyzeFixture } from './helpers/analyze-fixtures.ts';

let fixture: AnalyzeFixture;
let data: string;

beforeAll(() => {
  fixture = writeAnalyzeFixture();
  data = writeCorpus(fixture.root, 'corpus.jsonl', corpusLines(6));
});
afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

describe('analyze memory', () => {
  it('refuses a run over --memory-limit before writing anything, naming the estimate and the flags to change', async () => {
    const out = join(fixture.root, 'refused');
    await expect(runAnalyze(analyzeOptions(fixture, data, out, { memoryLimitGb: 1e-4 }))).rejects.toThrow(
      /not enough memory: analyze needs about .*teacher weights \(F32\).*backward pass \(4 × \d+ tokens, layers recomputed\).*--memory-limit allows 0\.1 MiB\. Lower --batch-size or --max-length/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('records the held dtype of each model in the manifest', async () => {
    const result = await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, 'ok')));
    const manifest = readManifest(join(result.dir, 'manifest.json'));
    expect(manifest.models.teacher.dtype).toBe('F32');
    expect(manifest.models.student.dtype).toBe('F32');
  });

  it('loads a folder given as teacher and student once', async () => {
    const sides = await loadSides(fixture.teacher, fixture.teacher);
    expect(sides.student.model).toBe(sides.teacher.model);
    expect(sides.student.role).toBe('student');
    sides.dispose();
  });

  it('recomputing layers shrinks the backward pass estimate and leaves weights as they are', () => {
    const held: HeldWeights = { config: { ...readConfig(fixture.teacher).config, numLayers: 24 }, dtype: 'BF16', bytes: 1e9 };
    const kept = estimateAnalyzeMemory({ teacher: held, batchSize: 8, maxLength: 512, recompute: false });
    const recomputed = estimateAnalyzeMemory({ teacher: held, batchSize: 8, maxLength: 512, recompute: true });
    expect(recomputed.total).toBeLessThan(kept.total);
    // Mapped weights carry no tfjs overhead factor.
    expect(kept.parts['teacher weights (BF16)']).toBe(1e9);
    expect(recomputed.total - 1e9).toBeCloseTo(Object.values(recomputed.parts).reduce((a, b) => a + b, 0) * 1.3 - 1e9 * 1.3, -3);
  });
});
