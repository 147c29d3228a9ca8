// Every kernel the `native` backend replaces, against the stock tfjs cpu kernel (or, where the stock
// kernel is wrong or missing, an independent composition of other cpu ops) on random inputs:
// forward, gradients through tf.grad, the fallback paths, and no leaked tensors or buffers.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { retainedFreeBytes } from '../lib/runtime/backends/native.ts';
import { memoryLimit } from '../lib/runtime/memory.ts';
import { initRuntime } from '../lib/runtime/index.ts';
import { LOG_SUM_EXP_ROWS, SOFTMAX_SCALE_ROWS } from '../lib/runtime/kernels/shared/kernel-names.ts';

type Input = { shape: number[]; values: Float32Array | Int32Array; dtype: 'float32' | 'int32' };
type Result = { shape: number[]; values: number[] };

let seed = 12345;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
/** Uniform in [lo, hi): deterministic so a failure reproduces. */
function input(shape: number[], lo = -1, hi = 1): Input {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => lo + (hi - lo) * random());
  return { shape, values, dtype: 'float32' };
}
function intInput(shape: number[], lo: number, hi: number): Input {
  const values = new Int32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.floor(lo + (hi - lo) * random()));
  return { shape, values, dtype: 'int32' };
}
const tensor = (x: Input) => tf.tensor(x.values, x.shape, x.dtype);

/** Runs fn on one backend with fresh tensors and returns plain results (read outside tidy). */
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
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(g.shape).toEqual(want[i].shape);
    g.values.forEach((v, j) => {
      const w = want[i].values[j];
      if (Number.isNaN(w)) expect(v).toBeNaN();
      else if (!Number.isFinite(w)) expect(v).toBe(w);
      else expect(Math.abs(v - w)).toBeLessThanOrEqual(tolerance * (1 + Math.abs(w)));
    });
  });
}

/** The same computation on `native` and on the stock `cpu` backend. */
async function compare(fn: () => tf.Tensor | tf.Tensor[], tolerance = 1e-4) {
  const want = await run('cpu', fn);
  const got = await run('native', fn);
  expectClose(got, want, tolerance);
  return got;
}

/** numTensors and the backend's buffer count do not grow over repeated calls. */
async function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[]) {
  await tf.setBackend('native');
  tf.dispose(tf.tidy(fn));
  const before = tf.memory();
  for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(fn));
  const after = tf.memory();
  expect(after.numTensors).toBe(before.numTensors);
  expect((after as unknown as { numDataBuffers: number }).numDataBuffers).toBe(
    (before as unknown as { numDataBuffers: number }).numDataBuffers,
  );
}

const cblasPresent = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'].some(existsSync);
// Without OpenBLAS the addon is not built: the kernel comparisons are skipped, the check below is not.
const native = await initRuntime({ backend: 'native', quiet: true }).then(
  (info) => info,
  (error: Error) => error,
);
const nativeAvailable = !(native instanceof Error);

beforeAll(async () => {
  if (nativeAvailable) await initRuntime({ backend: 'native', quiet: true });
});

describe('native backend', () => {
  it.runIf(cblasPresent)('is available where OpenBLAS headers are installed', () => {
    if (native instanceof Error) throw native;
    expect(native.backend).toBe('native');
    expect(native.blas).toMatch(/^OpenBLAS \d+\.\d+/);
    expect(native.threads).toBeGreaterThanOrEqual(1);
  });
});

describe.runIf(nativeAvailable)('freed memory kept by the heap', () => {
  it('counts as available to the pre-flight once tfjs frees it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = retainedFreeBytes();
    tf.dispose(tf.fill([64 * 1024 * 1024], 1)); // 256 MiB of float32
    let freed = 0;
    // V8 may release array buffers on a background thread after the collection.
    for (let tries = 0; tries < 50 && freed < 200 * 1024 ** 2; tries++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      freed = retainedFreeBytes() - before;
    }
    expect(freed).toBeGreaterThan(200 * 1024 ** 2);
    expect(memoryLimit('native').what).toMatch(/freed and kept by this process/);
  });
});

describe.runIf(nativeAvailable)('BatchMatMul', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[4, 5, 7], [4, 7, 3], false, false],
    [[4, 7, 5], [4, 3, 7], true, true],
    [[2, 3, 5, 7], [2, 3, 4, 7], false, true],
    [[4, 5, 7], [1, 7, 3], false, false], // shared B: folded into one GEMM
    [[1, 5, 7], [4, 7, 3], false, false],
    [[4, 7, 5], [1, 7, 3], true, false],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    const a = input(aShape);
    const b = input(bShape);
    it(`[${aShape}]${ta ? 'ᵀ' : ''} × [${bShape}]${tb ? 'ᵀ' : ''}`, async () => {
      await compare(() => tf.matMul(tensor(a), tensor(b), ta, tb));
    });
  }

  it('broadcasts batch dimensions per dimension ([2,1]×[1,3]), which the stock kernel gets wrong', async () => {
    const a = input([2, 1, 4, 5]);
    const b = input([1, 3, 5, 6]);
    const want = await run('cpu', () =>
      tf.reshape(tf.matMul(tf.reshape(tf.tile(tensor(a), [1, 3, 1, 1]), [6, 4, 5]), tf.reshape(tf.tile(tensor(b), [2, 1, 1, 1]), [6, 5, 6])), [2, 3, 4, 6]),
    );
    expectClose(await run('native', () => tf.matMul(tensor(a), tensor(b))), want);
  });

  it('agrees with a hand computation', async () => {
    const [got] = await run('native', () => tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2])));
    expect(got.values).toEqual([58, 64, 139, 154]);
  });

  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`gradients with transposeA=${ta} transposeB=${tb}, 2-D and batched`, async () => {
      for (const batch of [[], [3]]) {
        const a = input([...batch, ...(ta ? [6, 4] : [4, 6])]);
        const b = input([...batch, ...(tb ? [5, 6] : [6, 5])]);
        const w = input([...batch, 4, 5]);
        await compare(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), tensor(w))))([tensor(a), tensor(b)]));
      }
    });
  }

  it('defers int32 to the stock kernel', async () => {
    const a = intInput([3, 4], -5, 5);
    const b = intInput([4, 2], -5, 5);
    const [got] = await compare(() => tf.matMul(tensor(a), tensor(b)), 0);
    expect(got.values.every(Number.isInteger)).toBe(true);
  });

  it('leaks nothing', async () => {
    const a = input([3, 5, 7]);
    const b = input([1, 7, 4]);
    await expectNoLeak(() => [tf.matMul(tensor(a), tensor(b)), tf.matMul(tensor(a), tensor(a), false, true)]);
  });
});

describe.runIf(nativeAvailable)('_FusedMatMul', () => {
  const a = input([6, 8]);
  const b = input([8, 5]);
  const biases: Record<string, Input> = { '[N]': input([5]), '[1,N]': input([1, 5]), '[M,N]': input([6, 5]), 'scalar': input([]), '[M,1]': input([6, 1]) };
  const activations = ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const;
  for (const activation of activations) {
    it(`${activation} with each bias shape`, async () => {
      for (const bias of Object.values(biases))
        await compare(() => tf.fused.matMul({ a: tensor(a), b: tensor(b), bias: tensor(bias), activation, leakyreluAlpha: 0.3 }));
      await compare(() => tf.fused.matMul({ a: tensor(a), b: tensor(b), activation }));
    });
  }

  it('prelu with weights that repeat along the output and weights that do not', async () => {
    for (const weights of [input([5]), input([6, 1])])
      await compare(() => tf.fused.matMul({ a: tensor(a), b: tensor(b), bias: tensor(biases['[N]']), activation: 'prelu', preluActivationWeights: tensor(weights) }));
  });

  it('transposed and batched operands', async () => {
    const a3 = input([3, 8, 6]);
    const b3 = input([3, 5, 8]);
    await compare(() => tf.fused.matMul({ a: tensor(a3), b: tensor(b3), transposeA: true, transposeB: true, bias: tensor(biases['[N]']), activation: 'relu' }));
  });

  it('gradients of the fused linear + bias path', async () => {
    const w = input([6, 5]);
    await compare(() =>
      tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z }), tensor(w))))([
        tensor(a),
        tensor(b),
        tensor(biases['[N]']),
      ]),
    );
  });

  it('leaks nothing on the fast and the fallback paths', async () => {
    await expectNoLeak(() => [
      tf.fused.matMul({ a: tensor(a), b: tensor(b), bias: tensor(biases['[N]']), activation: 'relu' }),
      tf.fused.matMul({ a: tensor(a), b: tensor(b), bias: tensor(biases['[M,1]']), activation: 'prelu', preluActivationWeights: tensor(input([6, 1])) }),
    ]);
  });
});

describe.runIf(nativeAvailable)('element-wise kernels', () => {
  const shapes: [number[], number[]][] = [
    [[4, 6], [4, 6]],
    [[4, 6], [6]],
    [[4, 6], [4, 1]],
    [[4, 6], []],
    [[3, 1, 5], [4, 1]],
    [[2, 3, 4, 5], [3, 1, 5]],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, op] of ops) {
    it(`${name} with broadcasting`, async () => {
      for (const [aShape, bShape] of shapes) {
        const a = input(aShape);
        const b = input(bShape, 0.5, 2);
        await compare(() => [op(tensor(a), tensor(b)), op(tensor(b), tensor(a))]);
      }
    });
  }

  it('binary gradients reduce over broadcast dimensions', async () => {
    const a = input([3, 4, 5]);
    const b = input([4, 1], 0.5, 2);
    await compare(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.div(tf.mul(x, y), tf.add(y, 1)), tf.sub(x, y))))([tensor(a), tensor(b)]));
  });

  it('int32 arithmetic is left to the stock kernels', async () => {
    const [a, b, c] = [intInput([3, 4], -9, 9), intInput([4], -9, 9), intInput([5], -9, 9)];
    await compare(() => [tf.add(tensor(a), tensor(b)), tf.mul(tensor(c), tf.scalar(3, 'int32'))], 0);
  });

  it('NaN propagates through maximum and minimum as in Math.max', async () => {
    const [max, min] = await compare(() => [tf.maximum(tf.tensor1d([NaN, 1, 2]), tf.tensor1d([0, NaN, 3])), tf.minimum(tf.tensor1d([NaN, 1]), tf.tensor1d([0, 0]))]);
    expect(max.values[0]).toBeNaN();
    expect(min.values[1]).toBe(0);
  });

  const unary: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
    ['exp', tf.exp, -5, 5],
    ['log', tf.log, 0.01, 10],
    ['sigmoid', tf.sigmoid, -8, 8],
    ['sqrt', tf.sqrt, 0, 10],
    ['rsqrt', tf.rsqrt, 0.01, 10],
    ['neg', tf.neg, -3, 3],
    ['square', tf.square, -3, 3],
    ['tanh', tf.tanh, -4, 4],
  ];
  for (const [name, op, lo, hi] of unary) {
    it(`${name} and its gradient`, async () => {
      const x = input([7, 9], lo, hi);
      await compare(() => [op(tensor(x)), tf.grad((t: tf.Tensor) => tf.sum(op(t)))(tensor(x))]);
    });
  }

  it('softmax and logSoftmax over the last axis, with gradients', async () => {
    for (const shape of [[4, 7], [2, 3, 5], [6]]) {
      const x = input(shape, -6, 6);
      const w = input(shape);
      await compare(() => [
        tf.softmax(tensor(x)),
        tf.logSoftmax(tensor(x)),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.softmax(t), tensor(w))))(tensor(x)),
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSoftmax(t), tensor(w))))(tensor(x)),
      ]);
    }
  });

  it('softmax rows sum to one and match a hand computation', async () => {
    const [got] = await run('native', () => tf.softmax(tf.tensor2d([0, Math.log(3), 5, 5], [2, 2])));
    expect(got.values[0]).toBeCloseTo(0.25, 6);
    expect(got.values[1]).toBeCloseTo(0.75, 6);
    expect(got.values[2]).toBeCloseTo(0.5, 6);
  });

  it('leaks nothing', async () => {
    const a = input([3, 4, 5]);
    const b = input([4, 1]);
    await expectNoLeak(() => [tf.add(tensor(a), tensor(b)), tf.exp(tensor(a)), tf.softmax(tensor(a))]);
  });

  // Above 2^18 elements the kernels split their rows (or one long row) across threads. Compared by
  // the largest relative error: an expect per element would take minutes at this size.
  it('large operands, split across threads, match the stock kernels', async () => {
    const a = input([260, 1024], -3, 3);
    const row = input([1024], 0.5, 2);
    const column = input([260, 1], 0.5, 2);
    const flat = input([270000], -3, 3);
    const fn = () => [
      tf.mul(tensor(a), tensor(row)),
      tf.sub(tensor(column), tensor(a)),
      tf.add(tensor(flat), tensor(flat)),
      tf.exp(tensor(a)),
      tf.softmax(tensor(a)),
      tf.sum(tensor(a), 1),
    ];
    const want = await run('cpu', fn);
    const got = await run('native', fn);
    got.forEach((g, i) => {
      expect(g.shape).toEqual(want[i].shape);
      let worst = 0;
      g.values.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want[i].values[j]) / (1 + Math.abs(want[i].values[j])))));
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  });
});

describe.runIf(nativeAvailable)('reductions', () => {
  const x = input([3, 4, 5], -2, 2);
  const axes: (number | number[])[] = [-1, 0, 1, [0, 2], [1, 2], [0, 1, 2]];
  for (const [name, op] of [['sum', tf.sum], ['mean', tf.mean], ['max', tf.max], ['min', tf.min]] as const) {
    it(`${name} over any axes, with and without keepDims`, async () => {
      for (const axis of axes) for (const keepDims of [false, true]) await compare(() => op(tensor(x), axis, keepDims));
    });
  }

  it('gradients of mean, max and sum', async () => {
    await compare(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, 0), tf.max(t, 0))))(tensor(x)));
  });

  it('max propagates NaN; int32 sums stay with the stock kernel', async () => {
    const [max] = await compare(() => tf.max(tf.tensor2d([1, NaN, 3, 4], [2, 2]), 1));
    expect(max.values[0]).toBeNaN();
    const ints = intInput([4, 3], -9, 9);
    await compare(() => tf.sum(tensor(ints), 0), 0);
  });

  it('leaks nothing', async () => {
    await expectNoLeak(() => [tf.sum(tensor(x), [0, 2]), tf.mean(tensor(x), -1, true)]);
  });
});

describe.runIf(nativeAvailable)('data movement', () => {
  const x = input([2, 3, 4, 5]);
  const xi = intInput([2, 3, 4], -50, 50);

  it('transpose of every rank 2..4 permutation kind, float32 and int32', async () => {
    for (const perm of [[1, 0, 2, 3], [3, 2, 1, 0], [0, 2, 3, 1], [0, 1, 2, 3]]) await compare(() => tf.transpose(tensor(x), perm), 0);
    const matrix = input([6, 7]);
    await compare(() => [tf.transpose(tensor(xi), [2, 0, 1]), tf.transpose(tensor(matrix))], 0);
  });

  it('slice, split and concat along every axis', async () => {
    await compare(() => [tf.slice(tensor(x), [1, 0, 1, 2], [1, -1, 2, 3]), tf.slice(tensor(x), [0, 1], [-1, 1]), tf.slice(tensor(xi), [0, 0, 3], [2, 3, 1])], 0);
    const splits: (number | number[])[] = [2, 3, [1, 3], [2, -1]];
    for (let axis = 0; axis < 4; axis++) {
      const oneAlongAxis = x.shape.map((d, i) => (i === axis ? 1 : d));
      await compare(() => tf.split(tensor(x), splits[axis], axis), 0);
      await compare(() => tf.concat([tensor(x), tf.slice(tensor(x), [0, 0, 0, 0], oneAlongAxis)], axis), 0);
    }
    await compare(() => tf.concat([tensor(xi), tensor(xi)], 1), 0);
  });

  it('gather along any axis, with batchDims, float32 and int32', async () => {
    const idx = tf.tidy(() => Array.from(tf.tensor1d([2, 0, 2, 1], 'int32').dataSync()));
    await compare(() => [tf.gather(tensor(x), tf.tensor1d(idx, 'int32'), 1), tf.gather(tensor(x), tf.tensor2d([[4, 0], [1, 1]], [2, 2], 'int32'), 3), tf.gather(tensor(xi), tf.tensor1d([1, 0], 'int32'), 0)], 0);
    await compare(() => tf.gather(tensor(x), tf.tensor2d([[0, 2, 1], [1, 1, 0]], [2, 3], 'int32'), 1, 1), 0);
  });

  it('gather rejects an out-of-range index with the stock message', async () => {
    await tf.setBackend('native');
    expect(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([0, 2], 'int32'))).toThrow('GatherV2: the index value 2 is not in [0, 1]');
  });

  it('pad with a constant', async () => {
    await compare(() => [tf.pad(tensor(x), [[0, 1], [2, 0], [1, 1], [0, 3]], 0.5), tf.pad(tensor(xi), [[1, 0], [0, 0], [0, 2]])], 0);
  });

  it('gradients of slice (PadV2) and concat (SplitV)', async () => {
    const w = input([2, 3, 4, 10]);
    await compare(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.concat([tf.slice(t, [0, 0, 0, 2], [-1, -1, -1, 3]), t, tf.neg(tf.slice(t, [0, 0, 0, 0], [-1, -1, -1, 2]))], 3), tensor(w))))(tensor(x)),
    );
  });

  it('leaks nothing', async () => {
    await expectNoLeak(() => [tf.transpose(tensor(x)), tf.slice(tensor(x), [0, 1], [1, 2]), ...tf.split(tensor(x), 5, 3), tf.pad(tensor(x), [[1, 1], [0, 0], [0, 0], [0, 0]])]);
  });
});

describe.runIf(nativeAvailable)('UnsortedSegmentSum', () => {
  const x = input([9, 4]);
  const ids = tf.tidy(() => Array.from(tf.tensor1d([3, 0, 3, 5, 1, 0, 3, 2, 5], 'int32').dataSync()));

  it('matches the stock kernel and a one-hot matmul', async () => {
    const fn = () => tf.unsortedSegmentSum(tensor(x), tf.tensor1d(ids, 'int32'), 6);
    const [got] = await compare(fn);
    const [reference] = await run('cpu', () => tf.matMul(tf.oneHot(tf.tensor1d(ids, 'int32'), 6), tensor(x), true, false));
    expectClose([got], [reference]);
  });

  it('drops ids outside [0, numSegments)', async () => {
    const [got] = await run('native', () => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([-1, 1, 2], 'int32'), 2));
    expect(got.values).toEqual([0, 0, 3, 4]);
  });

  it('is the gradient of gather (embedding lookup)', async () => {
    const table = input([50, 8]);
    const w = input([2, 6, 8]);
    const tokens = [[3, 7, 3, 49, 0, 7], [1, 1, 2, 3, 5, 8]];
    await compare(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d(tokens, [2, 6], 'int32')), tensor(w))))(tensor(table)));
  });

  it('leaks nothing', async () => {
    await expectNoLeak(() => tf.unsortedSegmentSum(tensor(x), tf.tensor1d(ids, 'int32'), 6));
  });
});

describe.runIf(nativeAvailable)('LM-head row kernels (LeafLogSumExpRows, LeafSoftmaxScaleRows)', () => {
  const rowKernels = (x: tf.Tensor2D, dy: tf.Tensor1D) => {
    const [lse, max, sum] = tf.engine().runKernel(LOG_SUM_EXP_ROWS, { x }) as tf.Tensor1D[];
    return [lse, tf.engine().runKernel(SOFTMAX_SCALE_ROWS, { x, max, sum, dy }) as tf.Tensor2D, max, sum];
  };
  // The stock composition they replace: logSumExp and softmax · dy per row.
  const stock = (x: tf.Tensor2D, dy: tf.Tensor1D) => {
    const max = tf.max(x, 1);
    return [tf.logSumExp(x, 1), tf.mul(tf.softmax(x), tf.reshape(dy, [-1, 1])), max, tf.sum(tf.exp(tf.sub(x, tf.reshape(max, [-1, 1]))), 1)];
  };

  for (const shape of [[3, 7], [130, 5000]] as [number, number][]) {
    it(`match logSumExp and softmax · dy on the stock cpu kernels at [${shape}]`, async () => {
      const x = input(shape, -20, 20);
      const dy = input([shape[0]], -2, 2);
      const want = await run('cpu', () => stock(tensor(x) as tf.Tensor2D, tensor(dy) as tf.Tensor1D));
      const got = await run('native', () => rowKernels(tensor(x) as tf.Tensor2D, tensor(dy) as tf.Tensor1D));
      expectClose(got, want, 1e-5);
    });
  }

  it('stay finite for large logits and reject a width mismatch', async () => {
    const [lse] = await run('native', () => rowKernels(tf.tensor2d([1000, 999, -1000, 0], [2, 2]), tf.tensor1d([1, 1])));
    expect(lse.values[0]).toBeCloseTo(1000 + Math.log(1 + Math.exp(-1)), 3);
    expect(lse.values[1]).toBeCloseTo(0, 5);
    await tf.setBackend('native');
    expect(() => tf.engine().runKernel(SOFTMAX_SCALE_ROWS, { x: tf.zeros([2, 3]), max: tf.zeros([2]), sum: tf.ones([2]), dy: tf.zeros([3]) })).toThrow(/one value per row/);
  });

  it('carry the response loss gradient exactly as the composed ops do', async () => {
    const { createRandomModel } = await import('../lib/models/index.ts');
    const { embeddingGradients } = await import('../lib/models/loss.ts');
    const ids = [[1, 5, 9, 3, 7, 2]];
    const mask = [[0, 0, 0, 1, 1, 1]];
    const gradOn = async (backend: string) => {
      await tf.setBackend(backend);
      const model = createRandomModel({ modelType: 'qwen2', vocabSize: 300 }, 3);
      const { grad, nll } = embeddingGradients(model, ids, mask);
      const values = Array.from(grad.dataSync());
      grad.dispose();
      model.dispose();
      return { values, nll };
    };
    const want = await gradOn('cpu');
    const got = await gradOn('native');
    // Same rounding: the demo's attributions must not move (the gradient norms are min-max normalised,
    // which amplifies the last bits of nearly equal norms).
    expect(got.nll[0]).toBeCloseTo(want.nll[0], 5);
    got.values.forEach((v, i) => expect(Math.abs(v - want.values[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want.values[i]))));
  });

  it('leaks nothing', async () => {
    const x = input([4, 9]);
    const dy = input([4]);
    await expectNoLeak(() => rowKernels(tensor(x) as tf.Tensor2D, tensor(dy) as tf.Tensor1D));
  });
});
