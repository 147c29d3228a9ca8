import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttributions, readPruned } from '../lib/corpus/index.ts';
import { readMetrics } from '../lib/distill/index.ts';
import { demoDefaults, leafTerms, runDemo, SHIPPED, type DemoResult } from '../lib/demo/index.ts';
import { loadModel } from '../lib/models/index.ts';
import type { SynthSample } from '../lib/synth/index.ts';

// A reduced demo on the shipped models and corpus: every stage runs, every output must be well formed.
const out = mkdtempSync(join(tmpdir(), 'leaf-demo-'));
const SAMPLES = 24;
const EVAL = 16;
const STEPS = 3;
let result: DemoResult;
const printed: string[] = [];

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

beforeAll(async () => {
  result = await runDemo(
    { ...demoDefaults, out, samples: SAMPLES, evalSamples: EVAL, steps: STEPS, batchSize: 8, progress: false },
    (line) => printed.push(line),
  );
}, 120_000);

describe('leaf demo (reduced)', () => {
  it('analyses every sample and prunes from those attributions', async () => {
    const rows = await readAttributions(join(out, 'analyze', 'attributions.arrow'));
    const corpus = lines(join(out, 'data', 'train-distill.jsonl')).map((l) => JSON.parse(l) as SynthSample);
    expect(corpus.map((s) => s.id)).toEqual(lines(join(SHIPPED.corpus, 'train-distill.jsonl')).slice(0, SAMPLES).map((l) => (JSON.parse(l) as SynthSample).id));
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(corpus.map((s) => s.id)));
    const pruned = await readPruned(join(out, 'prune', 'pruned.arrow'));
    expect(pruned.filter((r) => r.kind === 'original').map((r) => r.source_id)).toEqual(corpus.map((s) => s.id));
    const counterfactuals = pruned.filter((r) => r.kind === 'counterfactual');
    // Verification runs on every counterfactual; by default LeaF keeps all of them, marked.
    expect(counterfactuals.every((r) => typeof r.verified === 'boolean' && r.mode === 'span')).toBe(true);
    expect(counterfactuals.length).toBe(result.prune.counterfactuals_written);
    expect(counterfactuals.filter((r) => r.verified).length).toBe(result.prune.verified);
    const summary = JSON.parse(readFileSync(join(out, 'prune', 'summary.json'), 'utf8'));
    expect(summary.verification.counterfactuals).toBe(counterfactuals.length);
  });

  it('distils KD on originals only and LeaF on originals + counterfactuals, same steps and seed', async () => {
    const kd = JSON.parse(readFileSync(join(out, 'distill-kd', 'run.json'), 'utf8'));
    const leaf = JSON.parse(readFileSync(join(out, 'distill-leaf', 'run.json'), 'utf8'));
    expect(kd.rows.counterfactuals).toBe(0);
    expect(kd.rows.originals).toBe(SAMPLES);
    expect(leaf.rows.counterfactuals).toBe(result.prune.counterfactuals_written);
    expect([kd.steps, leaf.steps]).toEqual([STEPS, STEPS]);
    expect(kd.settings.seed).toBe(leaf.settings.seed);
    // LeaF runs with the demo's focus and consistency terms, KD with neither.
    const terms = (settings: Record<string, unknown>) => ({ focusLoss: settings.focusLoss, attentionLayers: settings.attentionLayers, focusTarget: settings.focusTarget, consistencyLoss: settings.consistencyLoss, consistencyPull: settings.consistencyPull });
    expect(terms(leaf.settings)).toEqual(leafTerms(demoDefaults));
    expect([kd.settings.focusLoss, kd.settings.consistencyLoss]).toEqual([0, 0]);
    for (const run of ['distill-kd', 'distill-leaf']) {
      const metrics = readMetrics(join(out, run, 'metrics.jsonl')).filter((m) => m.kind === 'train');
      expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
      const student = await loadModel(join(out, run, 'final'));
      expect(student.config.vocabSize).toBeGreaterThan(0);
      student.dispose();
    }
  });

  it('evaluates four models with accuracies that agree with the per-sample predictions', () => {
    expect(result.models.map((m) => m.name)).toEqual(['student', 'kd', 'leaf', 'teacher']);
    for (const model of result.models) {
      const dir = model.name === 'kd' ? join(out, 'distill-kd') : model.name === 'leaf' ? join(out, 'distill-leaf') : join(out, 'eval', model.name);
      for (const split of ['test', 'clean'] as const) {
        const summary = JSON.parse(readFileSync(join(dir, `eval-${split}.json`), 'utf8'));
        const predictions = lines(join(dir, `eval-${split}.details.jsonl`)).map((l) => JSON.parse(l)).filter((r) => r.type === 'prediction');
        expect(summary.n).toBe(EVAL);
        expect(predictions).toHaveLength(EVAL);
        expect(model[split].accuracy).toBeCloseTo(predictions.filter((p) => p.correct).length / EVAL, 12);
        // Attention mass on flagged spans for every split, from analyses of that split's samples.
        expect(summary.attention_samples, `${model.name} ${split}`).toBeGreaterThan(0);
        expect(summary.attention_mass).toBeGreaterThan(0);
      }
      expect(model.plantedAttention.samples).toBe(EVAL);
      expect(model.plantedAttention.ratio).toBeGreaterThan(0);
      expect(model.plantedAttention.ratio).toBeLessThan(1);
    }
  });

  it('writes the report, the results and prints the table and where everything is', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>') || html.startsWith('<!doctype html>')).toBe(true);
    const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as DemoResult;
    expect(saved.models.map((m) => m.test.accuracy)).toEqual(result.models.map((m) => m.test.accuracy));
    expect(saved.detection.samples).toBeGreaterThan(0);
    const markdown = readFileSync(join(out, 'results.md'), 'utf8');
    expect(markdown.split('\n').filter((l) => l.startsWith('| '))).toHaveLength(5);
    const text = printed.join('\n');
    for (const label of ['student (before)', 'KD student', 'LeaF student', 'teacher']) expect(text).toContain(label);
    for (const path of Object.values(result.outputs)) {
      expect(existsSync(path)).toBe(true);
      expect(text).toContain(path);
    }
    expect(statSync(join(out, 'distill-leaf', 'final', 'model.safetensors')).size).toBeGreaterThan(0);
  });
});
