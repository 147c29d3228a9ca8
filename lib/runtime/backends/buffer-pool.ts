/**
 * Reuse of the native backend's large kernel outputs.
 *
 * Why: every ArrayBuffer V8 creates counts as external memory until a garbage collection sweeps it,
 * and each 64 MB of that growth starts a full mark-compact. A transformer pass makes gigabytes of
 * short-lived outputs, so with a corpus and two tokenizers on the JS heap (tens of MB to mark) the
 * collections took a third of a 0.5B analyze pass (measured: 4.2 → 6.3 s per pass once the Qwen
 * tokenizer was loaded). Handing a disposed tensor's buffer to the next output of a similar size
 * creates no new ArrayBuffer, so the collector has nothing to chase, and the pages are already mapped.
 *
 * Safety: a buffer is recycled only while exactly one live tensor stores exactly the view the pool
 * handed out. A tensor stored over another view of the same buffer (a stock kernel's subarray slice),
 * or the same view stored twice, pins the buffer: it is never recycled and the GC frees it as before.
 * Reads (dataSync, data, arraySync) get a copy of pooled values, so nothing outside the backend keeps
 * a view of memory that a later kernel may overwrite.
 */

import { totalmem } from 'node:os';

type Four = Float32Array | Int32Array;

/** Buffers below this size are cheap for V8 and not worth the bookkeeping. */
const MIN_POOLED_BYTES = 64 << 10;

export interface BufferPoolStats {
  /** Bytes held for reuse now. */
  pooledBytes: number;
  /** Outputs served from the pool / freshly allocated since creation. */
  reused: number;
  allocated: number;
}

/**
 * Capacity class of a request: sizes are rounded up to one of 8 steps per power of two (at most 1/8
 * wasted), so outputs whose length varies a little with the sequence length still meet a buffer.
 */
export function capacityClass(bytes: number): number {
  const step = Math.max(4096, 2 ** (Math.floor(Math.log2(bytes)) - 3));
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  /** Free buffers by capacity class. */
  private readonly free = new Map<number, Set<ArrayBuffer>>();
  /** Every free buffer, oldest release first: the first to go when the limit is reached. */
  private readonly age = new Set<ArrayBuffer>();
  /** The one view the pool handed out for each buffer it may take back. */
  private readonly handedOut = new WeakMap<ArrayBuffer, Four>();
  /** Buffers currently stored by a live tensor. */
  private readonly stored = new WeakSet<ArrayBuffer>();
  private pooled = 0;
  private reused = 0;
  private allocated = 0;

  /**
   * @param maxPooledBytes at most this many bytes are kept free; beyond it the oldest free buffers
   * are left to the GC (sequence lengths drift over a corpus, and with them the sizes in demand).
   */
  constructor(private readonly maxPooledBytes: number) {}

  /** A view of `size` elements with unspecified contents. */
  take(dtype: 'float32' | 'int32', size: number): Four {
    const bytes = size * 4;
    if (bytes < MIN_POOLED_BYTES) return dtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
    const capacity = capacityClass(bytes);
    let buffer = this.free.get(capacity)?.values().next().value;
    if (buffer) {
      this.forget(buffer);
      this.reused++;
    } else {
      // allocUnsafeSlow: its own ArrayBuffer (never a slice of Node's shared pool), not zero-filled.
      buffer = Buffer.allocUnsafeSlow(capacity).buffer as ArrayBuffer;
      this.allocated++;
    }
    const view = dtype === 'float32' ? new Float32Array(buffer, 0, size) : new Int32Array(buffer, 0, size);
    this.handedOut.set(buffer, view);
    return view;
  }

  /** The backend stores `values` for a tensor: from now on its buffer belongs to that tensor. */
  claim(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (!buffer) return;
    if (this.handedOut.get(buffer) !== values || this.stored.has(buffer)) this.handedOut.delete(buffer);
    else this.stored.add(buffer);
  }

  /** The tensor that stored `values` is gone: its buffer is free for the next output, unless pinned. */
  release(values: unknown): void {
    const buffer = pooledBuffer(values);
    if (!buffer || !this.stored.has(buffer)) return;
    this.stored.delete(buffer);
    if (this.handedOut.get(buffer) !== values) return;
    this.handedOut.delete(buffer);
    if (buffer.byteLength > this.maxPooledBytes) return;
    while (this.pooled + buffer.byteLength > this.maxPooledBytes) this.forget(this.age.values().next().value!);
    const set = this.free.get(buffer.byteLength);
    if (set) set.add(buffer);
    else this.free.set(buffer.byteLength, new Set([buffer]));
    this.age.add(buffer);
    this.pooled += buffer.byteLength;
  }

  /** Take a free buffer out of the pool (to hand out, or to leave to the GC). */
  private forget(buffer: ArrayBuffer): void {
    this.free.get(buffer.byteLength)!.delete(buffer);
    this.age.delete(buffer);
    this.pooled -= buffer.byteLength;
  }

  /** Whether `values` is a live pooled view, which a reader must copy rather than keep. */
  owns(values: unknown): boolean {
    const buffer = pooledBuffer(values);
    return buffer !== null && this.handedOut.get(buffer) === values;
  }

  /** Drop every free buffer (the GC frees them). */
  clear(): void {
    this.free.clear();
    this.age.clear();
    this.pooled = 0;
  }

  stats(): BufferPoolStats {
    return { pooledBytes: this.pooled, reused: this.reused, allocated: this.allocated };
  }
}

/** Any view's buffer: an alias of a pooled buffer may be of any type and length. */
function pooledBuffer(values: unknown): ArrayBuffer | null {
  return ArrayBuffer.isView(values) ? (values.buffer as ArrayBuffer) : null;
}

/**
 * The native backend's pool. A quarter of the machine's memory, at most 4 GiB: enough to hold every
 * activation of a 7B pass at a few hundred tokens, and small beside what the models take.
 */
export const nativeBufferPool = new BufferPool(Math.min(4 * 2 ** 30, totalmem() / 4));
