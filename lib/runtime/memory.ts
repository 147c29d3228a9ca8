// Pre-flight memory estimates for analyze and distill: weights by the dtype they will be held in,
// activations for the batch and length, gradients and optimizer state; a run that would not fit
// is refused before anything is loaded, naming the numbers and what to change.
import { readFileSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import type { DecoderConfig } from '../models/types.ts';
import { retainedFreeBytes } from './backends/native.ts';

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
export function activationFloatsPerToken(config: DecoderConfig, length: number): number {
  const d = config.hiddenSize;
  const perLayer = 10 * d + 4 * config.intermediateSize + 2 * config.numHeads * length;
  return config.numLayers * perLayer;
}

/** What a model's weights occupy as they will be held (see heldWeights in lib/models). */
export interface HeldWeights {
  config: DecoderConfig;
  /** F32, or BF16/F16 for matrices kept as stored. */
  dtype: string;
  bytes: number;
}

export interface MemoryEstimate {
  /** What is estimated, for the message ("analyze", "training"). */
  task: string;
  /** Bytes by part, for the message; parts of phases that never overlap are reported by phase. */
  parts: Record<string, number>;
  /** Bytes in all: tensor parts × the overhead factor, weights held as stored (memory-mapped, no tfjs temporaries) as they are. */
  total: number;
  /** What to change when it does not fit. */
  advice: string;
}

/** Weights held as stored are mapped file pages, not tfjs tensors: no overhead factor on them. */
const weightPart = (role: string, held: HeldWeights) => ({ [`${role} weights (${held.dtype})`]: held.bytes });
const scaled = (name: string) => !/weights \((BF16|F16)\)$/.test(name);
const withOverhead = (parts: Record<string, number>) =>
  Object.entries(parts).reduce((total, [name, bytes]) => total + (scaled(name) ? bytes * OVERHEAD_FACTOR : bytes), 0);

/**
 * One backward pass of a frozen model to its input embeddings. tfjs keeps every intermediate's
 * gradient until the pass ends, so it holds about twice the saved activations; with layers
 * recomputed it holds one [T, D] input per layer and one layer's activations at a time. Logits,
 * log-probabilities and their gradient at every position come on top.
 */
function backwardBytes(config: DecoderConfig, batchSize: number, length: number, recompute: boolean): number {
  const perToken = activationFloatsPerToken(config, length);
  const stack = recompute ? config.numLayers * config.hiddenSize + (2 * perToken) / config.numLayers : 2 * perToken;
  return batchSize * length * (stack + 3 * config.vocabSize) * FLOAT_BYTES;
}

/** Keys and values of every layer for a batch (a KV cache). */
function keyValueBytes(config: DecoderConfig, batchSize: number, length: number): number {
  return batchSize * length * config.numLayers * 2 * config.numKvHeads * config.headDim * FLOAT_BYTES;
}

/**
 * `leaf analyze`: both models' weights as held (once when teacher and student are one folder), the
 * larger of the two models' backward passes (they run one after the other) and, for a method that
 * keeps them (`keyValues`), both models' keys and values of a batch.
 */
export function estimateAnalyzeMemory(shape: { teacher: HeldWeights; student?: HeldWeights; batchSize: number; maxLength: number; recompute: boolean; keyValues?: boolean }): MemoryEstimate {
  const { teacher, student, batchSize, maxLength, recompute } = shape;
  const parts: Record<string, number> = { ...weightPart('teacher', teacher), ...(student ? weightPart('student', student) : {}) };
  parts[`backward pass (${batchSize} × ${maxLength} tokens${recompute ? ', layers recomputed' : ''})`] = Math.max(
    backwardBytes(teacher.config, batchSize, maxLength, recompute),
    student ? backwardBytes(student.config, batchSize, maxLength, recompute) : 0,
  );
  if (shape.keyValues) {
    parts['keys and values kept while shortened samples are scored'] =
      keyValueBytes(teacher.config, batchSize, maxLength) + keyValueBytes((student ?? teacher).config, batchSize, maxLength);
  }
  return {
    task: 'analyze',
    parts,
    total: withOverhead(parts),
    advice: 'Lower --batch-size or --max-length (--on-long truncate keeps long samples), or use the native backend (--backend native), which holds BF16/F16 weights as stored.',
  };
}

/** Weights alone, as held (what `leaf env --model` can say without a run's batch and length). */
export function estimateWeightsMemory(held: HeldWeights[], roles: string[]): MemoryEstimate {
  const parts = Object.assign({}, ...held.map((h, i) => weightPart(roles[i], h))) as Record<string, number>;
  return { task: 'loading the weights', parts, total: withOverhead(parts), advice: 'Hold the weights as stored (--hold stored, native backend).' };
}

export interface TrainingShape {
  student: DecoderConfig;
  /** The live teacher's weights as held; absent when the teacher is read from an existing cache. */
  teacher?: HeldWeights;
  /** The teacher only writes its cache, and is unloaded before the student loads. */
  teacherFirst?: boolean;
  /** Rows per micro-batch. */
  batchSize: number;
  /** Longest tokenised row (tokens). */
  maxLength: number;
  /**
   * The consistency term's shortened copies of the originals (at most one per row): only forwarded
   * (a constant target), or trained too, their activations kept for the backward pass.
   */
  shortenedCopies?: 'forwarded' | 'trained';
}

/**
 * Bytes a training step needs: student weights, gradients (plus the accumulation buffer) and two
 * AdamW moments; the student's activations ≈ B·T·(layers·c·d + vocab-sized loss temporaries);
 * the teacher's weights and one forward's working set — beside the student, or before it when
 * the teacher only writes the cache.
 */
export function estimateTrainingMemory(shape: TrainingShape): MemoryEstimate {
  const { student, teacher, batchSize, maxLength } = shape;
  const tokens = batchSize * maxLength;
  const studentParams = parameterCount(student) * FLOAT_BYTES;
  const parts: Record<string, number> = {
    'student weights (F32)': studentParams,
    'gradients (+ accumulation)': 2 * studentParams,
    'AdamW moments': 2 * studentParams,
    // Logits, log-probs, probabilities and their gradients of both models at the supervised rows.
    'student activations': tokens * (activationFloatsPerToken(student, maxLength) + 6 * student.vocabSize) * FLOAT_BYTES,
  };
  if (shape.shortenedCopies === 'trained') parts['activations of the shortened copies'] = parts['student activations'];
  // Held while the step trains: its logits, made by one forward whose layers' working sets come and go.
  if (shape.shortenedCopies === 'forwarded') parts['logits of the shortened copies'] = tokens * (activationFloatsPerToken(student, maxLength) / student.numLayers + student.vocabSize) * FLOAT_BYTES;
  const teacherParts: Record<string, number> = {};
  if (teacher) {
    Object.assign(teacherParts, weightPart('teacher', teacher));
    teacherParts['teacher forward'] = tokens * (activationFloatsPerToken(teacher.config, maxLength) / teacher.config.numLayers + 2 * teacher.config.vocabSize) * FLOAT_BYTES;
  }
  const total = shape.teacherFirst ? Math.max(withOverhead(parts), withOverhead(teacherParts)) : withOverhead(parts) + withOverhead(teacherParts);
  const named = shape.teacherFirst
    ? { ...Object.fromEntries(Object.entries(teacherParts).map(([k, v]) => [`cache phase: ${k}`, v])), ...Object.fromEntries(Object.entries(parts).map(([k, v]) => [`training phase: ${k}`, v])) }
    : { ...parts, ...teacherParts };
  return {
    task: 'training',
    parts: named,
    total,
    advice:
      'Lower --batch-size (use --effective-batch to keep the effective batch), lower --max-length, cache the teacher ' +
      '(--cache-teacher K: its top-k logits are written once and it is unloaded before the student trains), or use the native backend (--backend native).',
  };
}

/** MemAvailable from /proc/meminfo (what can be allocated without swapping), else free memory. */
function availableMemory(): number {
  try {
    const kib = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kib) return Math.min(Number(kib) * 1024, totalmem());
  } catch {
    // not Linux
  }
  return freemem();
}

/** The memory a run may use, and where that figure comes from (for messages). */
export interface MemoryLimit {
  bytes: number;
  what: string;
}

/** Retained free heap below this is not worth a mention in the pre-flight line. */
const KEPT_SHOWN = 64 * 1024 ** 2;

/** The memory a run may use: an explicit --memory-limit, the wasm heap, else what the machine has available now. */
export function memoryLimit(backend: string, overrideGb?: number): MemoryLimit {
  if (overrideGb) return { bytes: overrideGb * GiB, what: '--memory-limit' };
  if (backend === 'wasm') return { bytes: WASM_HEAP_BYTES, what: 'the wasm backend heap (4 GiB)' };
  const available = availableMemory();
  // Memory this process freed stays in its heap (the native backend turns trimming off): MemAvailable
  // no longer shows it, but the run's own allocations reuse it first.
  const retained = retainedFreeBytes();
  const kept = retained >= KEPT_SHOWN ? ` + ${formatBytes(retained)} freed and kept by this process` : '';
  return { bytes: available + retained, what: `available memory (MemAvailable ${formatBytes(available)}${kept} of ${formatBytes(totalmem())}; --memory-limit overrides)` };
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

function describeParts(estimate: MemoryEstimate): string {
  return Object.entries(estimate.parts).map(([name, bytes]) => `${name} ${formatBytes(bytes)}`).join(', ');
}

/** One line for stderr before work starts, and one saying what each frozen model is held in and why. */
export function printEstimate(estimate: MemoryEstimate, limit: MemoryLimit, holds: HoldDecision[] = []): void {
  process.stderr.write(`leaf: memory estimate for ${estimate.task}: ${formatBytes(estimate.total)} (${describeParts(estimate)}; tensors ×${OVERHEAD_FACTOR} for tfjs temporaries); ${limit.what} allows ${formatBytes(limit.bytes)}\n`);
  if (holds.length) process.stderr.write(`leaf: holding ${holds.map((h) => `the ${h.role} in ${h.held.dtype} (${h.reason})`).join(', ')}\n`);
}

/** Refuses, before anything is allocated, a run that would not fit. */
export function checkMemory(estimate: MemoryEstimate, limit: MemoryLimit): void {
  if (estimate.total <= limit.bytes) return;
  throw new Error(
    `not enough memory: ${estimate.task} needs about ${formatBytes(estimate.total)} (${describeParts(estimate)}; tensors ×${OVERHEAD_FACTOR} for tfjs temporaries) ` +
      `but ${limit.what} allows ${formatBytes(limit.bytes)}. ${estimate.advice}`,
  );
}

/**
 * How frozen 16-bit weights are held: `stored` (memory-mapped, widened panel by panel inside each
 * product: half the memory, somewhat slower), `float32` (widened once on load), or `auto`: float32
 * when the whole run still fits, else as stored — the largest model first.
 */
export type HoldChoice = 'auto' | 'stored' | 'float32';
export const HOLD_CHOICES: readonly HoldChoice[] = ['auto', 'stored', 'float32'];

/** A frozen model's weights both ways they can be held; `stored` absent where the backend cannot multiply 16-bit weights. */
export interface HoldCandidate {
  role: string;
  stored?: HeldWeights;
  float32: HeldWeights;
}

export interface HoldDecision {
  role: string;
  hold: 'stored' | 'float32';
  held: HeldWeights;
  /** Why, for the pre-flight line and the run's manifest. */
  reason: string;
}

export interface HoldPlan {
  holds: HoldDecision[];
  estimate: MemoryEstimate;
  /** The variant of the estimate chosen (analyze: whether layers are recomputed in the backward pass). */
  recompute: boolean;
}

/** The run's estimate with each frozen model held as given (in the candidates' order). */
export type EstimateWith = (held: HeldWeights[], recompute: boolean) => MemoryEstimate;

/** Bytes holding as stored saves (0 where nothing is 16-bit or the backend cannot). */
const storedSaving = (c: HoldCandidate) => (c.stored ? c.float32.bytes - c.stored.bytes : 0);

/**
 * Picks how each frozen model is held and which estimate variant runs: the first plan that fits,
 * trying each `recompute` variant in turn (cheapest first) and within it, for `auto`, every model
 * in float32, then the one whose stored copy saves most held as stored, then the next… Nothing fitting, the last plan is
 * returned (checkMemory then refuses it with the numbers).
 */
export function planHolds(candidates: HoldCandidate[], choice: HoldChoice, limit: MemoryLimit, estimateWith: EstimateWith, recomputes: boolean[] = [false]): HoldPlan {
  if (choice === 'stored') {
    const refused = candidates.find((c) => !c.stored);
    if (refused) throw new Error(`--hold stored: the ${refused.role}'s weights can be held in their stored dtype only on the native backend`);
  }
  const byStoredSize = candidates.filter((c) => storedSaving(c) > 0).sort((a, b) => storedSaving(b) - storedSaving(a));
  const storedSets: Array<Set<HoldCandidate>> =
    choice === 'auto' ? byStoredSize.map((_, j) => new Set(byStoredSize.slice(0, j))).concat([new Set(byStoredSize)]) : [new Set(choice === 'stored' ? byStoredSize : [])];
  const heldBy = (stored: Set<HoldCandidate>) => candidates.map((c) => (stored.has(c) ? c.stored! : c.float32));
  let chosen: { stored: Set<HoldCandidate>; recompute: boolean; estimate: MemoryEstimate } | undefined;
  search: for (const recompute of recomputes) {
    for (const stored of storedSets) {
      chosen = { stored, recompute, estimate: estimateWith(heldBy(stored), recompute) };
      if (chosen.estimate.total <= limit.bytes) break search;
    }
  }
  const { stored, recompute, estimate } = chosen!;
  const holds = candidates.map((c): HoldDecision => {
    const hold = stored.has(c) ? 'stored' : 'float32';
    const held = hold === 'stored' ? c.stored! : c.float32;
    return { role: c.role, hold, held, reason: holdReason(c, hold, choice, estimate, limit, () => estimateWith(heldBy(new Set([...stored].filter((s) => s !== c))), recompute)) };
  });
  return { holds, estimate, recompute };
}

function holdReason(c: HoldCandidate, hold: 'stored' | 'float32', choice: HoldChoice, estimate: MemoryEstimate, limit: MemoryLimit, widened: () => MemoryEstimate): string {
  if (!c.stored) return 'this backend multiplies float32 weights only';
  if (storedSaving(c) === 0) return 'as stored';
  if (choice !== 'auto') return `--hold ${choice}`;
  if (hold === 'float32') return `auto: widened on load, ${estimate.task} fits in ${formatBytes(estimate.total)} of ${formatBytes(limit.bytes)}`;
  return `auto: kept as stored, widened to float32 ${estimate.task} would need ${formatBytes(widened().total)} of ${formatBytes(limit.bytes)}`;
}
