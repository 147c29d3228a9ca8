// Decoder behaviour beyond the reference numerics: padding invariance, KV-cache generation,
// save/load, HF layout of saved files, error messages, weight gradients, tensor leaks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';
import { cachedLosses, losses, variantLosses } from '../lib/attribution/loss.ts';
import {
  SafetensorsReader, createRandomModel, embeddingGradNorms, greedyGenerate, loadModel, responseLossFromEmbeds, responseNll,
  responseTargets, saveModel, writeRandomCheckpoint, writeSafetensors, readSafetensors, type CausalLM,
} from '../lib/models/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'leaf-models-'));
beforeAll(async () => {
  await initRuntime({ backend: 'cpu', quiet: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARCHS: Array<{ modelType: string; extra?: Record<string, unknown> }> = [
  { modelType: 'llama' },
  { modelType: 'qwen2' },
  { modelType: 'mistral', extra: { raw: { sliding_window: 3 } } },
  { modelType: 'gpt2' },
];

function model(modelType: string, extra: Record<string, unknown> = {}, seed = 3): CausalLM {
  return createRandomModel({ modelType, vocabSize: 40, hiddenSize: 32, numHeads: 4, intermediateSize: 48, ...extra }, seed, { initStd: 0.4 });
}

function logitsOf(m: CausalLM, ids: number[][], mask?: number[][]): number[][][] {
  const out = tf.tidy(() => m.forward(tf.tensor2d(ids, undefined, 'int32'), mask ? { attentionMask: tf.tensor2d(mask, undefined, 'int32') } : {}).logits);
  const values = out.arraySync() as number[][][];
  out.dispose();
  return values;
}

function maxAbsDiff(a: number[], b: number[]): number {
  return a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i])), 0);
}

const SAMPLES = [
  [5, 9, 2, 33, 17, 8, 21],
  [11, 4, 30, 7],
  [1, 2, 3, 4, 5],
];
const TARGETS = [
  [0, 0, 0, 0, 1, 1, 1],
  [0, 0, 1, 1],
  [0, 1, 0, 1, 1],
];

function pad(side: 'left' | 'right', rows: number[][], fill: number): number[][] {
  const width = Math.max(...rows.map((r) => r.length));
  return rows.map((r) => {
    const padding = new Array<number>(width - r.length).fill(fill);
    return side === 'left' ? [...padding, ...r] : [...r, ...padding];
  });
}

describe.each(ARCHS)('$modelType', ({ modelType, extra }) => {
  test('padded batches (left and right) give each sample its unbatched logits, NLL and gradient norms', () => {
    const m = model(modelType, extra);
    try {
      const alone = SAMPLES.map((ids, b) => ({
        logits: logitsOf(m, [ids])[0],
        grads: embeddingGradNorms(m, [ids], [TARGETS[b]]),
      }));
      for (const side of ['left', 'right'] as const) {
        const ids = pad(side, SAMPLES, 39);
        const mask = pad(side, SAMPLES.map((s) => s.map(() => 1)), 0);
        const targets = pad(side, TARGETS, 0);
        const logits = logitsOf(m, ids, mask);
        const { norms, nll } = embeddingGradNorms(m, ids, targets, mask);
        SAMPLES.forEach((sample, b) => {
          const offset = side === 'left' ? ids[b].length - sample.length : 0;
          const real = sample.map((_, i) => offset + i);
          const scale = Math.max(...alone[b].logits.flat().map(Math.abs));
          expect(maxAbsDiff(real.flatMap((p) => logits[b][p]), alone[b].logits.flat()) / scale).toBeLessThan(1e-5);
          const gradScale = Math.max(...alone[b].grads.norms[0]);
          expect(maxAbsDiff(real.map((p) => norms[b][p]), alone[b].grads.norms[0]) / gradScale).toBeLessThan(1e-5);
          expect(Math.abs(nll[b] - alone[b].grads.nll[0])).toBeLessThan(1e-5 * alone[b].grads.nll[0]);
        });
      }
    } finally {
      m.dispose();
    }
  });

  test('greedy generation with the KV cache equals argmax over full forwards', () => {
    const m = model(modelType, extra, 11);
    try {
      const prompts = [[3, 1, 4, 1, 5], [9, 2], [6, 5, 3, 5]];
      const generated = greedyGenerate(m, prompts, { maxNewTokens: 6, eosTokenIds: [] });
      const reference = prompts.map((prompt) => {
        const ids = [...prompt];
        for (let n = 0; n < 6; n++) {
          const last = logitsOf(m, [ids])[0].at(-1)!;
          ids.push(last.indexOf(Math.max(...last)));
        }
        return ids.slice(prompt.length);
      });
      expect(generated).toEqual(reference);
    } finally {
      m.dispose();
    }
  });

  test('forward in chunks through the cache gives the full forward logits', () => {
    const m = model(modelType, extra, 5);
    const ids = [[7, 3, 12, 30, 2, 9, 14], [0, 0, 21, 8, 8, 1, 19]];
    const mask = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]];
    const cache = m.createCache();
    try {
      const full = logitsOf(m, ids, mask);
      const chunks: number[][][][] = [];
      for (const [start, end] of [[0, 3], [3, 4], [4, 7]]) {
        const out = tf.tidy(() =>
          m.forward(tf.tensor2d(ids.map((r) => r.slice(start, end)), undefined, 'int32'), {
            attentionMask: tf.tensor2d(mask.map((r) => r.slice(start, end)), undefined, 'int32'),
            cache,
          }).logits,
        );
        chunks.push(out.arraySync() as number[][][]);
        out.dispose();
      }
      expect(cache.length).toBe(7);
      const stitched = [0, 1].map((b) => chunks.flatMap((c) => c[b]));
      [0, 1].forEach((b) => {
        const real = mask[b].flatMap((m1, p) => (m1 ? [p] : []));
        const scale = Math.max(...full[b].flat().map(Math.abs));
        expect(maxAbsDiff(real.flatMap((p) => stitched[b][p]), real.flatMap((p) => full[b][p])) / scale).toBeLessThan(1e-5);
      });
    } finally {
      cache.dispose();
      m.dispose();
    }
  });

  test('variants scored from cached prefixes of their sources equal full forwards, without leaking tensors', () => {
    const m = model(modelType, extra, 6);
    const sources = [
      { ids: [5, 9, 2, 33, 17, 8, 21, 6, 3], targets: [7, 8] },
      { ids: [11, 4, 30, 7, 19], targets: [3, 4] },
    ];
    const variants = [
      { of: 0, input: { ids: [5, 9, 2, 8, 21, 6, 3], targets: [5, 6] } }, // a cut inside
      { of: 0, input: { ids: [9, 2, 33, 17, 8, 21, 6, 3], targets: [6, 7] } }, // the first token differs: nothing shared
      { of: 1, input: { ids: [11, 4, 7, 19], targets: [2, 3] } },
      { of: 0, input: { ids: [5, 9, 2, 33, 17, 8, 6, 3], targets: [6, 7] } }, // shares all but the token before the targets
      { of: 1, input: { ids: [11, 4, 30, 7, 19, 25], targets: [4, 5] } }, // the source continued: computed from the row before its first target
    ];
    const before = tf.memory().numTensors;
    const { losses: base, cache } = cachedLosses(m, sources, 0);
    try {
      const shared = variantLosses(m, cache, sources, variants, 0, 2);
      const full = losses(m, variants.map((v) => v.input), 0, 8);
      expect(maxAbsDiff([...shared], [...full])).toBeLessThan(1e-5);
      expect(maxAbsDiff([...base], [...losses(m, sources, 0, 8)])).toBeLessThan(1e-5);
      expect(() => cache.prefixes([1], [6])).toThrow(/row 1's first 6 positions are not all real cached tokens/);
    } finally {
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  test('attention probabilities: causal, zero on padding, rows sum to 1', () => {
    const m = model(modelType, extra);
    try {
      const ids = [[0, 0, 5, 6, 7], [8, 9, 10, 11, 12]];
      const mask = [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]];
      const result = m.forward(tf.tensor2d(ids, undefined, 'int32'), { attentionMask: tf.tensor2d(mask, undefined, 'int32'), outputAttentions: true });
      expect(result.attentions).toHaveLength(m.config.numLayers);
      const probs = result.attentions![0].arraySync() as number[][][][];
      expect(result.attentions![0].shape).toEqual([2, m.config.numHeads, 5, 5]);
      tf.dispose([result.logits, ...result.attentions!]);
      for (const head of probs[0]) {
        for (let q = 2; q < 5; q++) {
          expect(head[q].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
          head[q].forEach((p, k) => {
            if (k > q || mask[0][k] === 0) expect(p).toBe(0);
          });
        }
      }
    } finally {
      m.dispose();
    }
  });

  test('save → load gives identical logits; files are in HF names and orientation', async () => {
    const m = model(modelType, extra);
    const out = join(dir, `save-${modelType}`);
    try {
      saveModel(m, out);
      const reloaded = await loadModel(out);
      try {
        const ids = [[1, 5, 9, 13, 17, 21]];
        expect(logitsOf(reloaded, ids)).toEqual(logitsOf(m, ids));
        expect(reloaded.config.raw.model_type).toBe(modelType);
      } finally {
        reloaded.dispose();
      }
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      const header = SafetensorsReader.open(join(out, 'model.safetensors'));
      const shapes = Object.fromEntries([...header.tensors.values()].map((t) => [t.name, t.shape]));
      header.close();
      const { hiddenSize: D, numHeads: H, numKvHeads: K, headDim: hd, intermediateSize: I, vocabSize: V } = m.config;
      if (modelType === 'gpt2') {
        expect(config).toMatchObject({ model_type: 'gpt2', n_embd: D, n_head: H, n_layer: 2, n_inner: I, architectures: ['GPT2LMHeadModel'] });
        expect(shapes['transformer.h.0.attn.c_attn.weight']).toEqual([D, 3 * D]); // Conv1D: [in, out]
        expect(shapes['transformer.h.1.mlp.c_fc.weight']).toEqual([D, I]);
        expect(shapes['transformer.wpe.weight']).toEqual([m.config.maxPositions, D]);
        expect(shapes['lm_head.weight']).toBeUndefined(); // tied by default
      } else {
        expect(config).toMatchObject({ model_type: modelType, hidden_size: D, num_attention_heads: H, num_key_value_heads: K, intermediate_size: I });
        expect(shapes['model.layers.0.self_attn.q_proj.weight']).toEqual([H * hd, D]); // nn.Linear: [out, in]
        expect(shapes['model.layers.1.self_attn.k_proj.weight']).toEqual([K * hd, D]);
        expect(shapes['model.layers.0.mlp.down_proj.weight']).toEqual([D, I]);
        expect(shapes['lm_head.weight']).toEqual([V, D]);
        expect('model.layers.0.self_attn.q_proj.bias' in shapes).toBe(modelType === 'qwen2');
        expect('model.layers.0.self_attn.o_proj.bias' in shapes).toBe(false);
      }
    } finally {
      m.dispose();
    }
  });
});

describe('checkpoints', () => {
  test('BF16 and sharded saves reload; a re-save after reload is byte-identical', async () => {
    const m = model('llama', { tieWordEmbeddings: true });
    try {
      const bf16 = join(dir, 'bf16');
      saveModel(m, bf16, { dtype: 'BF16' });
      const reloaded = await loadModel(bf16);
      const again = join(dir, 'bf16-again');
      saveModel(reloaded, again, { dtype: 'BF16' });
      expect(Buffer.compare(readFileSync(join(again, 'model.safetensors')), readFileSync(join(bf16, 'model.safetensors')))).toBe(0);
      expect(JSON.parse(readFileSync(join(bf16, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
      // bfloat16 keeps 8 significant bits: rounding moves a weight by at most half an ulp ≤ 2^-8 · |x|.
      for (const [name, variable] of m.weights) {
        const original = variable.dataSync();
        const rounded = reloaded.weights.get(name)!.dataSync();
        original.forEach((x, i) => expect(Math.abs(rounded[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8));
      }
      reloaded.dispose();

      const sharded = join(dir, 'sharded');
      saveModel(m, sharded, { maxShardBytes: 20_000 });
      const files = readdirSync(sharded).filter((f) => f.endsWith('.safetensors'));
      expect(files.length).toBeGreaterThan(1);
      expect(existsSync(join(sharded, 'model.safetensors.index.json'))).toBe(true);
      const fromShards = await loadModel(sharded);
      expect(logitsOf(fromShards, [[1, 2, 3]])).toEqual(logitsOf(m, [[1, 2, 3]]));
      fromShards.dispose();
      // Saving unsharded into the same directory removes the now-stale shards and index.
      saveModel(m, sharded);
      expect(readdirSync(sharded).sort()).toEqual(['config.json', 'model.safetensors']);
    } finally {
      m.dispose();
    }
  });

  test('writeRandomCheckpoint writes a loadable checkpoint that keeps unknown config fields', async () => {
    const out = join(dir, 'random-qwen');
    writeRandomCheckpoint(out, { model_type: 'qwen2', vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, custom_field: 'kept', eos_token_id: [3, 4] }, 1);
    const m = await loadModel(out);
    expect(m.config).toMatchObject({ numKvHeads: 1, headDim: 8, eosTokenIds: [3, 4], tieWordEmbeddings: false });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).custom_field).toBe('kept');
    m.dispose();
  });

  describe('bad checkpoints fail with a clear message', () => {
    const base = { model_type: 'llama', vocab_size: 20, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2 };

    test('unknown model_type lists the supported ones', async () => {
      const out = join(dir, 'unknown');
      writeRandomCheckpoint(out, base, 1);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, model_type: 'falcon' }));
      await expect(loadModel(out)).rejects.toThrow(/unsupported model_type "falcon"; supported: gpt2, llama, mistral, qwen2/);
    });

    test('missing tensor names the tensor and its expected shape', async () => {
      const out = join(dir, 'missing');
      writeRandomCheckpoint(out, base, 1);
      const tensors = readSafetensors(join(out, 'model.safetensors'));
      tensors.delete('model.layers.0.mlp.up_proj.weight');
      writeSafetensors(join(out, 'model.safetensors'), [...tensors.values()]);
      await expect(loadModel(out)).rejects.toThrow(/missing tensor "model\.layers\.0\.mlp\.up_proj\.weight" \(expected shape \[12,8\]\)/);
    });

    test('wrong shape names the tensor, the expected and the actual shape', async () => {
      const out = join(dir, 'shape');
      writeRandomCheckpoint(out, base, 1);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, intermediate_size: 16 }));
      await expect(loadModel(out)).rejects.toThrow(/tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[12,8\], expected \[16,8\]/);
    });

    test('bad config values and files', async () => {
      const out = join(dir, 'config');
      writeRandomCheckpoint(out, base, 1);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, hidden_size: '8' }));
      await expect(loadModel(out)).rejects.toThrow(/config\.json: field "hidden_size" must be a positive integer, got "8"/);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, num_key_value_heads: 3 }));
      await expect(loadModel(out)).rejects.toThrow(/must be a multiple of num_key_value_heads/);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, rope_scaling: { rope_type: 'yarn', factor: 2 } }));
      await expect(loadModel(out)).rejects.toThrow(/rope_scaling type "yarn" is not supported/);
      writeFileSync(join(out, 'config.json'), JSON.stringify({ ...base, hidden_act: 'gelu' }));
      await expect(loadModel(out)).rejects.toThrow(/hidden_act "gelu" is not supported/);
      writeFileSync(join(out, 'config.json'), '{ nope');
      await expect(loadModel(out)).rejects.toThrow(/config\.json: not valid JSON/);
      await expect(loadModel(join(dir, 'absent'))).rejects.toThrow(/no config\.json/);
    });
  });
});

describe('response loss', () => {
  test('responseNll equals the mean shifted NLL computed from the full logits', () => {
    const m = model('llama');
    try {
      const logits = logitsOf(m, [SAMPLES[0]])[0];
      const expected: number[] = [];
      TARGETS[0].forEach((t, i) => {
        if (!t) return;
        const row = logits[i - 1];
        const max = Math.max(...row);
        const logZ = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        expected.push(logZ - row[SAMPLES[0][i]]);
      });
      const mean = expected.reduce((a, b) => a + b, 0) / expected.length;
      expect(responseNll(m, [SAMPLES[0]], [TARGETS[0]])[0]).toBeCloseTo(mean, 5);
    } finally {
      m.dispose();
    }
  });

  test('bad target masks are rejected', () => {
    const m = model('llama');
    try {
      expect(() => responseNll(m, [[1, 2, 3]], [[1, 0, 0]])).toThrow(/first token cannot be a target/);
      expect(() => responseNll(m, [[1, 2, 3]], [[0, 0, 0]])).toThrow(/sample 0 has no response tokens/);
      expect(() => responseNll(m, [[0, 2, 3]], [[0, 1, 1]], [[0, 1, 1]])).toThrow(/position 1: a target token and the token before it must not be padding/);
      expect(() => responseNll(m, [[1, 2, 99]], [[0, 1, 1]])).toThrow(/token id 99 is outside the vocabulary/);
    } finally {
      m.dispose();
    }
  });

  test.each(['llama', 'gpt2'])('%s: weight gradients (tied embeddings included) match finite differences', (modelType) => {
    const m = createRandomModel({ modelType, vocabSize: 30, hiddenSize: 16, numHeads: 2, numKvHeads: modelType === 'gpt2' ? 2 : 1, intermediateSize: 24, tieWordEmbeddings: true }, 2, { initStd: 0.3, trainable: true });
    try {
      const ids = [[3, 7, 1, 9, 4, 22]];
      const targets = responseTargets(ids, [[0, 0, 1, 1, 1, 1]], undefined, 30);
      const loss = () => tf.tidy(() => responseLossFromEmbeds(m, m.embed(tf.tensor2d(ids, undefined, 'int32')), targets).loss);
      const { grads } = tf.variableGrads(loss as () => tf.Scalar);
      const embedName = modelType === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight';
      const probes: Array<[string, number]> = [
        [embedName, 7 * 16 + 3], // a token in the input: gathered and also an LM head row
        [embedName, 25 * 16 + 5], // absent from the input: LM head path only
        [modelType === 'gpt2' ? 'transformer.h.0.attn.c_attn.weight' : 'model.layers.0.self_attn.q_proj.weight', 17],
      ];
      for (const [name, index] of probes) {
        const variable = m.weights.get(name)!;
        const analytic = grads[variable.name].dataSync()[index];
        const original = variable.dataSync().slice();
        const at = (delta: number) => {
          const values = original.slice();
          values[index] += delta;
          variable.assign(tf.tensor(values, variable.shape));
          const l = loss();
          const value = l.dataSync()[0];
          l.dispose();
          return value;
        };
        const eps = 1e-2;
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        variable.assign(tf.tensor(original, variable.shape));
        expect(Math.abs(analytic - numeric), `${name}[${index}]: ${analytic} vs ${numeric}`).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
        expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
      }
      tf.dispose(Object.values(grads));
    } finally {
      m.dispose();
    }
  });
});

test('tensor count stays flat across repeated forward, backward, generation', () => {
  const m = model('mistral', { raw: { sliding_window: 3 } });
  const ids = pad('left', SAMPLES, 0);
  const mask = pad('left', SAMPLES.map((s) => s.map(() => 1)), 0);
  const targets = pad('left', TARGETS, 0);
  const round = () => {
    logitsOf(m, ids, mask);
    embeddingGradNorms(m, ids, targets, mask);
    responseNll(m, ids, targets, mask);
    greedyGenerate(m, SAMPLES, { maxNewTokens: 3 });
    const input = tf.tensor2d(ids, undefined, 'int32');
    const r = m.forward(input, { outputAttentions: true });
    tf.dispose([input, r.logits, ...r.attentions!]);
  };
  round();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) round();
  expect(tf.memory().numTensors).toBe(before);
  m.dispose();
});
