import * as tf from '@tensorflow/tfjs-core';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { initRuntime } from '../lib/runtime/index.ts';
import { createRandomModel, loadModel } from '../lib/models/index.ts';
import { loadTokenizer, renderPrompt } from '../lib/text/index.ts';
import { writeRows } from '../lib/corpus/rows.ts';
import type { AttributionRow } from '../lib/corpus/types.ts';
import { saveStudent } from '../lib/distill/index.ts';
import { mergeCommand } from '../bin/commands/merge.ts';
import { evaluate, evaluateShard, getChecker, mergeEvalShards, type EvalOptions } from '../lib/eval/index.ts';
import { writeJsonl, writeTinyModel, TEACHER_SHAPE, VOCAB } from './distill-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'leaf-eval-'));
const leaf = fileURLToPath(new URL('../bin/leaf.js', import.meta.url));
let uniform: string;
let peaked: string;

function attribution(id: string, text: string, spans: { start: number; end: number }[]): AttributionRow {
  const words = [...text.matchAll(/\S+/g)];
  const zeros = words.map(() => 0);
  return {
    id, region: 'instruction', text, tokens: words.map((m) => m[0]), char_start: words.map((m) => m.index!), char_end: words.map((m) => m.index! + m[0].length),
    teacher_score: zeros, student_score: zeros, teacher_norm: zeros, student_norm: zeros, delta: zeros,
    flagged: words.map((m) => spans.some((s) => m.index! < s.end && m.index! + m[0].length > s.start)), spans, teacher_loss: 1, student_loss: 1, threshold: 0.1,
  };
}

beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
  const tokenizerDir = writeTinyModel(join(root, 'tok'), TEACHER_SHAPE, 1, 0.02);
  // q_proj = 0 makes every attention score 0: each position attends uniformly to itself and all before it.
  const model = createRandomModel({ modelType: 'llama', vocabSize: VOCAB, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64 }, 3, { initStd: 0.3 });
  for (const [name, weight] of model.weights) if (name.endsWith('q_proj.weight')) weight.assign(tf.zerosLike(weight));
  uniform = join(root, 'uniform');
  saveStudent(model, tokenizerDir, uniform);
  model.dispose();
  peaked = writeTinyModel(join(root, 'peaked'), TEACHER_SHAPE, 21, 0.6);
});

describe('attention mass on flagged tokens', () => {
  it('equals the flagged share of the region for uniform attention (hand computation)', async () => {
    const data = writeJsonl(join(root, 'mass.jsonl'), [
      { instruction: 'ba be bi bo bu', output: 'ca ce ci', answer: '1' },
      { instruction: 'da de', output: 'fa', answer: '2' },
    ]);
    const dir = join(root, 'analysis');
    mkdirSync(dir, { recursive: true });
    // Sample 0: "bi bo" flagged (2 of 5 region tokens); sample 1 has no flagged span and is not measured.
    await writeRows(join(dir, 'attributions.arrow'), [attribution('0', 'ba be bi bo bu', [{ start: 6, end: 11 }]), attribution('1', 'da de', [])], 'attributions');
    const result = await evaluate({ model: uniform, data, attributions: dir, maxNewTokens: 4, batchSize: 2, quiet: true });
    // Rendered: <bos> <user> ba be bi bo bu <assistant> ca ce ci <eos>: tokens 0..11, response at 8..10,
    // predicted from positions 7, 8, 9, which see 8, 9, 10 keys uniformly.
    const queries = [7, 8, 9];
    const flaggedMass = queries.reduce((sum, q) => sum + 2 / (q + 1), 0) / 3;
    const regionMass = queries.reduce((sum, q) => sum + 5 / (q + 1), 0) / 3;
    expect(result.attention_samples).toBe(1);
    expect(result.flagged_mass).toBeCloseTo(flaggedMass, 5);
    expect(result.region_mass).toBeCloseTo(regionMass, 5);
    expect(result.attention_mass).toBeCloseTo(0.4, 5);
    expect(result.flagged_token_fraction).toBeCloseTo(0.4, 10);
    expect(result.accuracy).toBeNull();
  });

  it('says which sample no longer matches its attributions', async () => {
    const data = writeJsonl(join(root, 'changed.jsonl'), [{ instruction: 'ba be', output: 'ca', answer: '1' }]);
    const file = join(root, 'changed.arrow');
    await writeRows(file, [attribution('0', 'bo bu', [{ start: 0, end: 2 }])], 'attributions');
    await expect(evaluate({ model: uniform, data, attributions: file, maxNewTokens: 4, batchSize: 1, quiet: true })).rejects.toThrow(/sample 0: the instruction text of the attributions is not in the rendered sample/);
  });
});

describe('accuracy by greedy generation', () => {
  /** Greedy decoding by full forward passes (no KV cache), independent of lib/models' generator and lib/eval's prompts. */
  async function greedyByHand(dir: string, instruction: string, steps: number): Promise<string> {
    const tokenizer = await loadTokenizer(dir);
    const model = await loadModel(dir);
    const ids = tokenizer.encode(renderPrompt(tokenizer, instruction).text, { addSpecialTokens: false }).ids;
    const out: number[] = [];
    for (let n = 0; n < steps; n++) {
      const logits = model.forward(tf.tensor2d([[...ids, ...out]], undefined, 'int32')).logits;
      const last = (logits.arraySync() as number[][][])[0].at(-1)!;
      logits.dispose();
      const next = last.indexOf(Math.max(...last));
      out.push(next);
      if (next === 3) break;
    }
    model.dispose();
    return tokenizer.decode(out, { skipSpecialTokens: true });
  }

  it('scores the greedy answers with the checker', async () => {
    const instructions = ['ba be', 'bi bo bu', 'ca', 'ce ci co cu', 'da', 'de di'];
    const predictions = await Promise.all(instructions.map((instruction) => greedyByHand(peaked, instruction, 5)));
    // Half of the gold answers are the model's own greedy output, half are not.
    const rows = instructions.map((instruction, i) => ({ instruction, output: 'fa', answer: i % 2 === 0 ? predictions[i] || '?' : `${predictions[i]} zz` }));
    const expected = rows.filter((row, i) => getChecker('exact').check(predictions[i], row.answer)).length / rows.length;
    expect(expected).toBeGreaterThan(0);
    const data = writeJsonl(join(root, 'acc.jsonl'), rows);
    const result = await evaluate({ model: peaked, data, checker: 'exact', maxNewTokens: 5, batchSize: 4, quiet: true });
    expect(result.n).toBe(6);
    expect(result.accuracy).toBeCloseTo(expected, 10);
    expect(result.attention_mass).toBeNull();
  });

  it('runs from the CLI and writes the documented JSON', async () => {
    const data = writeJsonl(join(root, 'cli.jsonl'), [{ instruction: 'ba be', output: 'ca', answer: 'ca' }]);
    const out = join(root, 'eval.json');
    await promisify(execFile)(process.execPath, [leaf, 'eval', '--model', peaked, '--data', data, '--checker', 'contains', '--max-new-tokens', '3', '--out', out, '--backend', 'cpu']);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    for (const key of ['model', 'data', 'n', 'accuracy', 'correct', 'checker', 'attention_mass', 'attention_samples', 'flagged_token_fraction', 'backend', 'elapsed_s']) expect(written).toHaveProperty(key);
    expect(written.n).toBe(1);
  });
});

describe('sharded eval (--shard i/n, leaf merge)', () => {
  const dir = join(root, 'sharded');
  let base: EvalOptions;
  const shardDirs = [join(dir, 'shard-0'), join(dir, 'shard-1')];

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    const instructions = ['ba be bi', 'bo bu', 'ca ce ci co', 'cu da', 'de di do du fa'];
    const probe = writeJsonl(join(dir, 'probe.jsonl'), instructions.map((instruction) => ({ instruction, output: 'ga ge', answer: 'x' })));
    await evaluate({ model: peaked, data: probe, checker: 'exact', maxNewTokens: 4, batchSize: 2, quiet: true, details: join(dir, 'probe-details.jsonl') });
    const predicted = readFileSync(join(dir, 'probe-details.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).prediction as string);
    // Rows 0, 2, 4 are answered right, 1 and 3 wrong: a merge that lost or doubled a row shows in the counts.
    const data = writeJsonl(join(dir, 'data.jsonl'), instructions.map((instruction, i) => ({ instruction, output: 'ga ge', answer: i % 2 === 0 ? predicted[i] || '?' : `${predicted[i]} zz` })));
    await writeRows(
      join(dir, 'attributions.arrow'),
      [attribution('0', 'ba be bi', [{ start: 3, end: 5 }]), attribution('2', 'ca ce ci co', [{ start: 0, end: 5 }]), attribution('3', 'cu da', [{ start: 0, end: 2 }]), attribution('4', 'de di do du fa', [{ start: 9, end: 14 }])],
      'attributions',
    );
    base = { model: peaked, data, attributions: dir, checker: 'exact', maxNewTokens: 4, batchSize: 2, quiet: true };
    for (const [i, out] of shardDirs.entries()) await evaluateShard({ ...base, shard: `${i}/2`, out });
  });

  it('2 shards + merge give what one process gives: the summary (but elapsed_s) and the details byte for byte', async () => {
    const one = await evaluate({ ...base, out: join(dir, 'one.json'), details: join(dir, 'one.jsonl') });
    expect(one.correct).toBeGreaterThan(0);
    expect(one.correct).toBeLessThan(5);
    // 3 regions in shard 0, 1 in shard 1: a mean of the shards' means would differ.
    expect(one.attention_samples).toBe(4);
    const merged = mergeEvalShards([shardDirs[1], shardDirs[0]], { out: join(dir, 'merged.json'), details: join(dir, 'merged.jsonl') });
    expect({ ...merged, elapsed_s: 0 }).toEqual({ ...one, elapsed_s: 0 });
    expect(readFileSync(join(dir, 'merged.jsonl'), 'utf8')).toBe(readFileSync(join(dir, 'one.jsonl'), 'utf8'));
    expect({ ...JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')), elapsed_s: 0 }).toEqual({ ...one, elapsed_s: 0 });
  });

  it('refuses a missing shard, shards of other options, a directory without a part; a shard keeps its part only with --resume', async () => {
    expect(() => mergeEvalShards([shardDirs[0]], { out: join(dir, 'x.json') })).toThrow('shard 1/2 missing from the merge');
    expect(() => mergeEvalShards([shardDirs[0], shardDirs[0]], { out: join(dir, 'x.json') })).toThrow(/are both shard 0\/2/);
    const other = join(dir, 'other-1');
    await evaluateShard({ ...base, maxNewTokens: 3, shard: '1/2', out: other });
    expect(() => mergeEvalShards([shardDirs[0], other], { out: join(dir, 'x.json') })).toThrow(`${other} and ${shardDirs[0]} are shards of different evaluations`);
    expect(() => mergeEvalShards([shardDirs[0], join(dir, 'nothing')], { out: join(dir, 'x.json') })).toThrow(/nothing: no eval-part\.json; a shard of leaf eval writes it when it has finished/);
    await expect(evaluateShard({ ...base, shard: '0/2', out: shardDirs[0] })).rejects.toThrow(/already holds shard 0\/2 of an evaluation; add --resume/);
    expect(await evaluateShard({ ...base, shard: '0/2', out: shardDirs[0], resume: true })).toMatchObject({ reused: true, rows: 3 });
    await expect(evaluateShard({ ...base, maxNewTokens: 3, shard: '0/2', out: shardDirs[0], resume: true })).rejects.toThrow(/cannot resume .* with other data, model or options/);
  });

  it('leaf merge recognises eval shards, and refuses a mix with other shards', async () => {
    const merge = (args: string[]) => mergeCommand.exitOverride().parseAsync(args, { from: 'user' });
    await merge([...shardDirs, '--out', join(dir, 'cli.json')]);
    expect(JSON.parse(readFileSync(join(dir, 'cli.json'), 'utf8'))).toMatchObject({ n: 5, attention_samples: 4 });
    await expect(merge([shardDirs[0], join(dir, 'analysis-like'), '--out', join(dir, 'y.json')])).rejects.toThrow(/analysis-like is a shard of leaf analyze but .*shard-0 is a shard of leaf eval/);
  });
});
