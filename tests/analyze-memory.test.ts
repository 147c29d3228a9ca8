// analyze's pre-flight: a run that cannot fit is refused before anything is written, naming the
// numbers and what to change; a folder given as teacher and student is loaded once; the manifest
// records the dtype each model was held in and why; --hold auto widens to float32 only what fits.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSides, runAnalyze, type AnalyzeOptions } from '../lib/analyze/index.ts';
import { readManifest } from '../lib/corpus/index.ts';
import { estimateAnalyzeMemory, parameterCount, planHolds, type HeldWeights, type HoldCandidate } from '../lib/runtime/memory.ts';
import { readConfig, writeRandomCheckpoint } from '../lib/models/index.ts';
import { getArchitecture } from '../lib/models/architectures/index.ts';
import { getAttributionMethod } from '../lib/attribution/index.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { buildWordLevelTokenizer, writeTokenizerFiles } from '../lib/text/index.ts';
import { WORDS } from './helpers/analyze-fixtures.ts';
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
    expect(manifest.models.teacher.hold).toBe('this backend multiplies float32 weights only');
  });

  it('--hold auto widens a BF16 checkpoint that fits to float32, --hold stored keeps it, and the manifest says why', async (context) => {
    try {
      await initRuntime({ backend: 'native', quiet: true });
    } catch {
      context.skip();
    }
    const bf16 = join(fixture.root, 'teacher-bf16');
    writeRandomCheckpoint(bf16, { model_type: 'llama', ...JSON.parse(readFileSync(join(fixture.teacher, 'config.json'), 'utf8')) }, 11, { initStd: 0.5, dtype: 'BF16' });
    writeTokenizerFiles(bf16, buildWordLevelTokenizer(WORDS, { lowercase: true }));
    const run = async (name: string, over: Partial<AnalyzeOptions>) =>
      readManifest(join((await runAnalyze(analyzeOptions(fixture, data, join(fixture.root, name), { teacher: bf16, backend: 'native', ...over }))).dir, 'manifest.json'));
    const auto = await run('auto', {});
    expect(auto.models.teacher.dtype).toBe('F32');
    expect(auto.models.teacher.hold).toMatch(/^auto: widened on load, analyze fits in [\d.]+ MiB of [\d.]+ GiB$/);
    expect(auto.models.student.hold).toBe('as stored');
    const stored = await run('stored', { hold: 'stored' });
    expect(stored.models.teacher.dtype).toBe('BF16');
    expect(stored.models.teacher.hold).toBe('--hold stored');
  });

  describe('planHolds: a 7B-shaped BF16 teacher and a 0.5B BF16 student, 1 × 250 tokens', () => {
    const qwen = (hf: Record<string, number | boolean>) =>
      getArchitecture('qwen2').fromHfConfig({ model_type: 'qwen2', max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1e6, ...hf }, 'test');
    const candidate = (role: string, config: ReturnType<typeof qwen>): HoldCandidate => ({
      role,
      stored: { config, dtype: 'BF16', bytes: 2 * parameterCount(config) },
      float32: { config, dtype: 'F32', bytes: 4 * parameterCount(config) },
    });
    const teacher = candidate('teacher', qwen({ hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, vocab_size: 152064, tie_word_embeddings: false }));
    const student = candidate('student', qwen({ hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: true }));
    const estimate = ([t, s]: HeldWeights[], recompute: boolean) => estimateAnalyzeMemory({ teacher: t, student: s, batchSize: 1, maxLength: 250, recompute });
    const plan = (gib: number, choice: 'auto' | 'stored' | 'float32' = 'auto') =>
      planHolds([teacher, student], choice, { bytes: gib * 1024 ** 3, what: 'test' }, estimate, [false, true]);

    // Estimates here: both float32 48.3 GiB (40.3 with layers recomputed), teacher stored 25.7 (17.6),
    // both stored 24.2 (16.1).
    it('on 22 GiB keeps the teacher as stored and widens the student, saying why with the numbers', () => {
      const { holds, estimate, recompute } = plan(22);
      expect(holds.map((h) => h.hold)).toEqual(['stored', 'float32']);
      expect(recompute).toBe(true);
      expect(estimate.total).toBeLessThanOrEqual(22 * 1024 ** 3);
      expect(holds[0].reason).toMatch(/^auto: kept as stored, widened to float32 analyze would need (\d+\.\d+) GiB of 22\.00 GiB$/);
      expect(Number(/need (\S+) GiB/.exec(holds[0].reason)![1])).toBeGreaterThan(22);
      expect(holds[1].reason).toMatch(/^auto: widened on load, analyze fits in \d+\.\d+ GiB of 22\.00 GiB$/);
    });

    it('widens both where float32 fits, holds as stored before recomputing layers, and obeys an explicit --hold', () => {
      const summary = (gib: number) => {
        const { holds, recompute } = plan(gib);
        return [...holds.map((h) => h.hold), recompute];
      };
      expect(summary(64)).toEqual(['float32', 'float32', false]);
      expect(summary(42)).toEqual(['stored', 'float32', false]);
      expect(summary(16.5)).toEqual(['stored', 'stored', true]);
      expect(plan(64, 'stored').holds.map((h) => [h.hold, h.reason])).toEqual([['stored', '--hold stored'], ['stored', '--hold stored']]);
      expect(plan(22, 'float32').estimate.total).toBeGreaterThan(22 * 1024 ** 3);
    });

    it('refuses --hold stored where the backend cannot multiply 16-bit weights', () => {
      const float32Only = { ...student, stored: undefined };
      expect(() => planHolds([float32Only], 'stored', { bytes: 1e12, what: 'test' }, ([s]) => estimate([s, s], false))).toThrow(/--hold stored: the student's weights .* only on the native backend/);
      expect(planHolds([float32Only], 'auto', { bytes: 1e12, what: 'test' }, ([s]) => estimate([s, s], false)).holds[0].reason).toBe('this backend multiplies float32 weights only');
    });
  });

  it('loads a folder given as teacher and student once', async () => {
    const sides = await loadSides(fixture.teacher, fixture.teacher);
    expect(sides.student.model).toBe(sides.teacher.model);
    expect(sides.student.role).toBe('student');
    sides.dispose();
  });

  it('counts both models\' keys and values of a batch where the method keeps them', () => {
    const config = { ...readConfig(fixture.teacher).config, numLayers: 24, numKvHeads: 4, headDim: 128 };
    const held: HeldWeights = { config, dtype: 'BF16', bytes: 1e9 };
    const without = estimateAnalyzeMemory({ teacher: held, student: held, batchSize: 8, maxLength: 512, recompute: true });
    const kept = estimateAnalyzeMemory({ teacher: held, student: held, batchSize: 8, maxLength: 512, recompute: true, keyValues: true });
    // 2 models × 8 × 512 tokens × 24 layers × (keys + values) × 4 heads × 128 × 4 bytes.
    expect(kept.parts['keys and values kept while shortened samples are scored']).toBe(2 * 8 * 512 * 24 * 2 * 4 * 128 * 4);
    expect(kept.total).toBeGreaterThan(without.total);
    expect(getAttributionMethod('contrastive').keepsKeyValues).toBe(true);
    expect(getAttributionMethod('grad-l2').keepsKeyValues).toBeUndefined();
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
