// The wasm backend's patched kernels (wrapped matmuls, scatter-add UnsortedSegmentSum) against the
// stock tfjs cpu kernels, or independent compositions of cpu ops where the stock kernel is wrong.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initRuntime } from '../lib/runtime/index.ts';

type Result = { shape: number[]; values: number[] };

let seed = 777;
function input(shape: number[]): { shape: number[]; values: Float32Array } {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 2 - 1;
  });
  return { shape, values };
}
const tensor = (x: { shape: number[]; values: Float32Array }) => tf.tensor(x.values, x.shape);

async function run(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  expect(tf.getBackend()).toBe(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const results = list.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(list);
  return results;
}

function expectClose(got: Result[], want: Result[], tolerance = 1e-4) {
  expect(got.map((r) => r.shape)).toEqual(want.map((r) => r.shape));
  got.forEach((g, i) => g.values.forEach((v, j) => expect(Math.abs(v - want[i].values[j])).toBeLessThanOrEqual(tolerance * (1 + Math.abs(want[i].values[j])))));
}

async function compare(fn: () => tf.Tensor | tf.Tensor[]) {
  expectClose(await run('wasm', fn), await run('cpu', fn));
}

beforeAll(async () => {
  await initRuntime({ backend: 'wasm', quiet: true });
});

describe('wasm BatchMatMul (wrapped)', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[4, 5, 7], [4, 7, 3], false, false],
    [[4, 7, 5], [4, 3, 7], true, true],
    [[2, 3, 5, 7], [2, 3, 4, 7], false, true],
    [[4, 5, 7], [1, 7, 3], false, false],
    [[1, 5, 7], [4, 7, 3], false, false],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    const a = input(aShape);
    const b = input(bShape);
    it(`[${aShape}]${ta ? 'ᵀ' : ''} × [${bShape}]${tb ? 'ᵀ' : ''} and its gradients`, async () => {
      await compare(() => tf.matMul(tensor(a), tensor(b), ta, tb));
      if (aShape.length === bShape.length && aShape[0] === bShape[0])
        await compare(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([tensor(a), tensor(b)]));
    });
  }

  it('broadcasts batch dimensions per dimension ([2,1]×[1,3])', async () => {
    const a = input([2, 1, 4, 5]);
    const b = input([1, 3, 5, 6]);
    const want = await run('cpu', () =>
      tf.reshape(tf.matMul(tf.reshape(tf.tile(tensor(a), [1, 3, 1, 1]), [6, 4, 5]), tf.reshape(tf.tile(tensor(b), [2, 1, 1, 1]), [6, 5, 6])), [2, 3, 4, 6]),
    );
    expectClose(await run('wasm', () => tf.matMul(tensor(a), tensor(b))), want);
  });

  it('fused matmul: stock path, transposed/batched path, bias shapes and activations', async () => {
    const a = input([3, 6, 8]);
    const b = input([3, 5, 8]);
    const a2 = input([6, 8]);
    const b2 = input([8, 5]);
    const bias = input([5]);
    const bias2d = input([6, 5]);
    const alpha = input([5]);
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const) {
      await compare(() => tf.fused.matMul({ a: tensor(a2), b: tensor(b2), bias: tensor(bias), activation, leakyreluAlpha: 0.1 }));
      await compare(() => tf.fused.matMul({ a: tensor(a), b: tensor(b), transposeB: true, bias: tensor(bias), activation, leakyreluAlpha: 0.1 }));
    }
    await compare(() => tf.fused.matMul({ a: tensor(a2), b: tensor(b2), bias: tensor(bias2d), activation: 'prelu', preluActivationWeights: tensor(alpha) }));
  });

  it('leaks no tensors or buffers', async () => {
    const a = input([3, 5, 7]);
    const b = input([3, 4, 7]);
    await tf.setBackend('wasm');
    const call = () => tf.tidy(() => [tf.matMul(tensor(a), tensor(b), false, true), tf.matMul(tensor(a), tensor(input([7, 2])))]);
    tf.dispose(call());
    const before = tf.memory() as tf.MemoryInfo & { numDataBuffers: number };
    for (let i = 0; i < 3; i++) tf.dispose(call());
    const after = tf.memory() as tf.MemoryInfo & { numDataBuffers: number };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
  });
});

describe('wasm UnsortedSegmentSum (registered by leaf)', () => {
  it('matches a one-hot matmul and drops out-of-range ids', async () => {
    const x = input([7, 3]);
    const ids = [2, 0, 2, -1, 4, 0, 9];
    const [got] = await run('wasm', () => tf.unsortedSegmentSum(tensor(x), tf.tensor1d(ids, 'int32'), 5));
    const kept = ids.map((id) => (id >= 0 && id < 5 ? id : -1));
    const [want] = await run('cpu', () => tf.matMul(tf.oneHot(tf.tensor1d(kept, 'int32'), 5), tensor(x), true, false));
    expectClose([got], [want]);
  });

  it('makes the embedding gradient (gather) work', async () => {
    const table = input([40, 6]);
    const w = input([2, 5, 6]);
    await compare(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d([[1, 39, 1, 0, 7], [7, 7, 2, 3, 4]], [2, 5], 'int32')), tensor(w))))(tensor(table)));
  });
});
