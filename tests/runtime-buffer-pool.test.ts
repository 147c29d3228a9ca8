// The native backend recycles disposed kernel outputs: reuse must never change a value anyone can
// still see (a read result, a stock kernel's view into a recycled buffer, a live tensor).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { BufferPool, capacityClass, nativeBufferPool } from '../lib/runtime/backends/buffer-pool.ts';
import { initRuntime } from '../lib/runtime/index.ts';

const cblasPresent = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'].some(existsSync);
const BIG = 1 << 16; // elements: 256 KiB, above the pool's minimum

describe('BufferPool', () => {
  it('rounds sizes up by at most an eighth', () => {
    for (const bytes of [65536, 65537, 100_000, 3 * 2 ** 20 + 5, 2 ** 30 - 1]) {
      const capacity = capacityClass(bytes);
      expect(capacity).toBeGreaterThanOrEqual(bytes);
      expect(capacity).toBeLessThanOrEqual(bytes * 1.125 + 4096);
    }
    expect(capacityClass(250 * 4864 * 4)).toBe(capacityClass(251 * 4864 * 4));
  });

  it('hands a released buffer to the next request of its class, and nothing it still stores', () => {
    const pool = new BufferPool(2 ** 30);
    const a = pool.take('float32', BIG);
    pool.claim(a);
    expect(pool.take('float32', BIG).buffer).not.toBe(a.buffer);
    pool.release(a);
    const b = pool.take('int32', BIG - 100);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.stats()).toMatchObject({ reused: 1, allocated: 2, pooledBytes: 0 });
  });

  it('pins a buffer stored through another view or stored twice', () => {
    const pool = new BufferPool(2 ** 30);
    const a = pool.take('float32', BIG);
    pool.claim(a);
    pool.claim(a.subarray(0, 10));
    pool.release(a);
    expect(pool.take('float32', BIG).buffer).not.toBe(a.buffer);

    const c = pool.take('float32', BIG);
    pool.claim(c);
    pool.claim(c);
    pool.release(c);
    expect(pool.stats().pooledBytes).toBe(0);
  });

  it('keeps no more than its limit, dropping the oldest free buffers first', () => {
    const size = capacityClass(BIG * 4);
    const pool = new BufferPool(2 * size);
    const [a, b, c] = [pool.take('float32', BIG), pool.take('float32', BIG), pool.take('float32', 2 * BIG)];
    for (const v of [a, b, c]) pool.claim(v);
    pool.release(a);
    pool.release(b);
    expect(pool.stats().pooledBytes).toBe(2 * size);
    pool.release(c); // twice the size: both older buffers go
    expect(pool.stats().pooledBytes).toBe(capacityClass(2 * BIG * 4));
    expect([a.buffer, b.buffer]).not.toContain(pool.take('float32', BIG).buffer);
    expect(pool.take('float32', 2 * BIG).buffer).toBe(c.buffer);
  });
});

describe.runIf(cblasPresent)('native backend with the pool', () => {
  const ramp = (n: number, scale: number) => tf.tensor2d(Float32Array.from({ length: n * 256 }, (_, i) => (i % 997) * scale), [n, 256]);

  it('reuses disposed outputs in a loop without leaking tensors, with unchanged results', async () => {
    await initRuntime({ backend: 'native', quiet: true });
    const x = ramp(256, 1e-3);
    const reference = Array.from(tf.tidy(() => tf.add(tf.matMul(x, x, false, true), 1)).dataSync());
    const before = nativeBufferPool.stats().reused;
    const tensors = tf.memory().numTensors;
    for (let step = 0; step < 4; step++) {
      const y = tf.tidy(() => tf.add(tf.matMul(x, x, false, true), 1));
      expect(Array.from(y.dataSync())).toEqual(reference);
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(nativeBufferPool.stats().reused).toBeGreaterThan(before);
    x.dispose();
  });

  it('gives readers a copy, so a recycled buffer never changes what was read', async () => {
    await initRuntime({ backend: 'native', quiet: true });
    const x = ramp(BIG / 256, 1);
    const y = tf.mul(x, 2);
    const read = y.dataSync();
    const copy = read.slice();
    y.dispose();
    const z = tf.mul(x, -3); // same size: takes y's buffer
    expect(read).toEqual(copy);
    tf.dispose([x, z]);
  });

  it("keeps a stock kernel's view into an output valid after that output is disposed", async () => {
    await initRuntime({ backend: 'native', quiet: true });
    const x = ramp(BIG / 256, 1);
    const y = tf.mul(x, 2);
    const rows = tf.unstack(y); // stock Unpack: subarray views of y's buffer
    const expected = rows[5].arraySync();
    y.dispose();
    const others = [tf.mul(x, -7), tf.mul(x, 11)];
    expect(rows[5].arraySync()).toEqual(expected);
    tf.dispose([x, ...rows, ...others]);
  });
});
