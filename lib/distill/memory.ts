import { totalmem } from 'node:os';
import type { DecoderConfig } from '../models/types.ts';

const FLOAT_BYTES = 4;
const GiB = 1024 ** 3;
/** The wasm backend's heap cannot grow past 4 GiB, and running out kills the process uncatchably. */
const WASM_HEAP_BYTES = 4 * GiB;
/** tfjs keeps temporaries beyond what the estimate names (kernel scratch, fragmentation). */
const OVERHEAD_FACTOR = 1.3;

/** Parameter count of a decoder from its config (embeddings, attention, MLP, norms; biases ignored). */
export function parameterCount(config: DecoderConfig): number {
  const d = config.hiddenSize;
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  const attention = d * q + 2 * d * kv + q * d;
  const gated = config.modelType !== 'gpt2';
  const mlp = (gated ? 3 : 2) * d * config.intermediateSize;
  const embeddings = config.vocabSize * d * (config.tieWordEmbeddings ? 1 : 2);
  const positions = gated ? 0 : config.maxPositions * d;
  return embeddings + positions + config.numLayers * (attention + mlp + 2 * d) + d;
}

/**
 * Floats a decoder keeps per token for the backward pass: per layer the normed inputs, q/k/v and
 * their rotated copies, attention scores and probabilities (one row of T per head), the
 * attention output and projection, residuals, and the MLP's intermediate activations.
 */
function activationFloatsPerToken(config: DecoderConfig, length: number): number {
  const d = config.hiddenSize;
  const perLayer = 10 * d + 4 * config.intermediateSize + 2 * config.numHeads * length;
  return config.numLayers * perLayer;
}

export interface MemoryEstimate {
  /** Bytes by part, for the message. */
  parts: Record<string, number>;
  total: number;
}

export interface TrainingShape {
  student: DecoderConfig;
  /** Absent when the teacher is read from a cache. */
  teacher?: DecoderConfig;
  /** Rows per micro-batch. */
  batchSize: number;
  /** Longest tokenised row (tokens). */
  maxLength: number;
}

/**
 * Bytes a training step needs: student weights, gradients (plus the accumulation buffer) and two
 * AdamW moments; the student's activations ≈ B·T·(layers·c·d + vocab-sized loss temporaries);
 * the teacher's weights and one forward's working set.
 */
export function estimateTrainingMemory(shape: TrainingShape): MemoryEstimate {
  const { student, teacher, batchSize, maxLength } = shape;
  const tokens = batchSize * maxLength;
  const studentParams = parameterCount(student) * FLOAT_BYTES;
  const parts: Record<string, number> = {
    'student weights': studentParams,
    'gradients (+ accumulation)': 2 * studentParams,
    'AdamW moments': 2 * studentParams,
    // Logits, log-probs, probabilities and their gradients of both models at the supervised rows.
    'student activations': tokens * (activationFloatsPerToken(student, maxLength) + 6 * student.vocabSize) * FLOAT_BYTES,
  };
  if (teacher) {
    parts['teacher weights'] = parameterCount(teacher) * FLOAT_BYTES;
    parts['teacher forward'] = tokens * (activationFloatsPerToken(teacher, maxLength) / teacher.numLayers + 2 * teacher.vocabSize) * FLOAT_BYTES;
  }
  const total = Object.values(parts).reduce((a, b) => a + b, 0) * OVERHEAD_FACTOR;
  return { parts, total };
}

/** The memory a backend can give tensors: the wasm heap, else the machine's memory. */
export function backendMemoryLimit(backend: string): { bytes: number; what: string } {
  if (backend === 'wasm') return { bytes: WASM_HEAP_BYTES, what: 'the wasm backend heap (4 GiB)' };
  return { bytes: totalmem(), what: `system memory (${formatBytes(totalmem())})` };
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Refuses, before anything is allocated, a run that would not fit. */
export function checkMemory(estimate: MemoryEstimate, limit: { bytes: number; what: string }): void {
  if (estimate.total <= limit.bytes) return;
  const parts = Object.entries(estimate.parts).map(([name, bytes]) => `${name} ${formatBytes(bytes)}`).join(', ');
  throw new Error(
    `not enough memory: training needs about ${formatBytes(estimate.total)} (${parts}, ×${OVERHEAD_FACTOR} overhead) ` +
      `but ${limit.what} allows ${formatBytes(limit.bytes)}. Lower --batch-size (use --effective-batch to keep the ` +
      `effective batch), lower --max-length, cache the teacher (--cache-teacher K), or use the native backend (--backend native).`,
  );
}
