// Checkpoint directories in Hugging Face layout: config.json + model.safetensors (or shards + index).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, DecoderConfig } from './types.ts';
import { getArchitecture, type Architecture } from './architectures/index.ts';
import { layoutTensors } from './layout-tensors.ts';
import { DecoderModel } from './decoder.ts';
import { CheckpointReader, writeCheckpointTensors } from './checkpoint.ts';
import { randomModelFromConfig, type RandomModelOptions } from './random.ts';
import { variableFrom } from './variables.ts';
import { HalfMatrix, type HalfDtype } from './half.ts';
import { loadAddon } from '../runtime/native/addon.ts';
import type { HeldWeights, HoldCandidate } from '../runtime/memory.ts';
import type { WriteDtype } from './safetensors.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export interface LoadOptions {
  /** Make the weights trainable variables (students being distilled); default false (frozen). */
  trainable?: boolean;
  /**
   * `stored`: frozen BF16/F16 matrices stay in their stored dtype, memory-mapped from the file
   * (native backend only: its GEMM widens them panel by panel); `float32`: every weight is
   * converted on load. Default: `stored` for frozen models on the native backend. analyze and
   * distill decide it from their pre-flight estimate (planHolds in lib/runtime/memory.ts).
   */
  hold?: 'stored' | 'float32';
}

/** The dtypes leaf reads weights from; anything else (F8, integers, quantised formats) is refused by name. */
const READABLE_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Whether frozen 16-bit matrices can be held as stored: only the native backend multiplies them. */
export function canHoldStored(): boolean {
  return tf.getBackend() === 'native';
}

export function readConfig(dir: string): { config: DecoderConfig; architecture: Architecture } {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${dir}: no config.json (expected a Hugging Face checkpoint directory)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${path}: expected a JSON object`);
  const quantization = (raw as Record<string, unknown>).quantization_config as { quant_method?: unknown } | undefined;
  if (quantization) {
    throw new Error(`${path}: the checkpoint is quantised (quantization_config, quant_method ${JSON.stringify(quantization.quant_method ?? 'unknown')}); leaf reads F32, F16, BF16 and F64 weights — dequantise it first`);
  }
  const architecture = getArchitecture((raw as Record<string, unknown>).model_type, path);
  return { config: architecture.fromHfConfig(raw as Record<string, unknown>, path), architecture };
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<CausalLM> {
  return loadDecoder(dir, options);
}

function holdsStored(dir: string, options: LoadOptions): boolean {
  const holdStored = !(options.trainable ?? false) && (options.hold ?? (canHoldStored() ? 'stored' : 'float32')) === 'stored';
  if (holdStored && !canHoldStored()) throw new Error(`${dir}: weights can be held in their stored dtype only on the native backend (this is ${tf.getBackend()})`);
  return holdStored;
}

const isHalf = (dtype: string) => dtype === 'BF16' || dtype === 'F16';

/** What loading `dir` with `options` will hold, from the file headers alone (for pre-flight estimates). */
export function heldWeights(dir: string, options: LoadOptions = {}): HeldWeights {
  const { config } = readConfig(dir);
  const holdStored = holdsStored(dir, options);
  const checkpoint = CheckpointReader.open(dir);
  try {
    let bytes = 0;
    const dtypes = new Set<string>();
    for (const name of checkpoint.names()) {
      const { shape, dtype } = checkpoint.info(name);
      const half = holdStored && shape.length === 2 && isHalf(dtype);
      if (half) dtypes.add(dtype);
      bytes += shape.reduce((a, b) => a * b, 1) * (half ? 2 : 4);
    }
    return { config, dtype: dtypes.size === 1 ? [...dtypes][0] : 'F32', bytes };
  } finally {
    checkpoint.close();
  }
}

/** Both ways `dir` can be held frozen here, from the file headers alone (for planHolds). */
export function holdCandidate(role: string, dir: string): HoldCandidate {
  return { role, stored: canHoldStored() ? heldWeights(dir, { hold: 'stored' }) : undefined, float32: heldWeights(dir, { hold: 'float32' }) };
}

export function loadDecoder(dir: string, options: LoadOptions = {}): DecoderModel {
  const { config, architecture } = readConfig(dir);
  const layout = architecture.layout(config);
  const trainable = options.trainable ?? false;
  const holdStored = holdsStored(dir, options);
  const checkpoint = CheckpointReader.open(dir);
  const weights = new Map<string, tf.Variable>();
  const halfWeights = new Map<string, HalfMatrix>();
  try {
    const found = layoutTensors(layout, config).map((spec) => {
      const name = [spec.name, ...(architecture.checkpointAliases?.(spec.name) ?? [])].find((n) => checkpoint.has(n));
      if (!name) throw new Error(`${dir}: checkpoint is missing tensor "${spec.name}" (expected shape [${spec.shape}])`);
      const { shape, dtype } = checkpoint.info(name);
      if (shape.length !== spec.shape.length || shape.some((d, i) => d !== spec.shape[i])) {
        throw new Error(`${dir}: tensor "${name}" has shape [${shape}], expected [${spec.shape}] from config.json`);
      }
      if (!READABLE_DTYPES.has(dtype)) {
        throw new Error(`${checkpoint.fileOf(name)}: tensor "${name}" is stored as ${dtype}; leaf reads F32, F16, BF16 and F64 weights (F8, integer and quantised formats are not supported — convert the checkpoint first)`);
      }
      return { spec, name, dtype };
    });
    // Matrices (linear weights, embeddings, head) are what makes a model big; norms and biases are
    // converted to float32 variables whatever they are stored as.
    const half = found.filter(({ spec, dtype }) => holdStored && spec.shape.length === 2 && isHalf(dtype));
    for (const [name, matrix] of mapHalf(checkpoint, half)) halfWeights.set(name, matrix);
    for (const { spec, name } of found) {
      if (!halfWeights.has(spec.name)) weights.set(spec.name, variableFrom(checkpoint.readFloat32(name), spec.shape, trainable));
    }
  } catch (error) {
    for (const variable of weights.values()) variable.dispose();
    for (const matrix of halfWeights.values()) matrix.dispose();
    throw error;
  } finally {
    checkpoint.close();
  }
  return new DecoderModel(config, dir, weights, layout, halfWeights);
}

/** Each shard file mapped once; a tensor whose data the file does not align to 2 bytes is read into memory instead. */
function mapHalf(checkpoint: CheckpointReader, tensors: Array<{ spec: { name: string; shape: number[] }; name: string; dtype: string }>): Map<string, HalfMatrix> {
  const out = new Map<string, HalfMatrix>();
  const byFile = new Map<string, typeof tensors>();
  for (const tensor of tensors) {
    const { start } = checkpoint.info(tensor.name);
    if (start % 2 !== 0) {
      out.set(tensor.spec.name, new HalfMatrix(tensor.dtype as HalfDtype, tensor.spec.shape as [number, number], checkpoint.readHalf(tensor.name), false));
      continue;
    }
    const file = checkpoint.fileOf(tensor.name);
    byFile.set(file, [...(byFile.get(file) ?? []), tensor]);
  }
  const addon = loadAddon();
  for (const [file, group] of byFile) {
    const ranges = new Float64Array(group.flatMap(({ name }) => [checkpoint.info(name).start, checkpoint.info(name).end]));
    const buffers = addon.mapRanges(file, ranges);
    group.forEach((tensor, i) => out.set(tensor.spec.name, new HalfMatrix(tensor.dtype as HalfDtype, tensor.spec.shape as [number, number], new Uint16Array(buffers[i]), true)));
  }
  return out;
}

export interface SaveOptions {
  /** Stored dtype of the weights; default F32. */
  dtype?: WriteDtype;
  /** Split into shards with an index above this size (HF's `max_shard_size`); default one file. */
  maxShardBytes?: number;
}

const TORCH_DTYPE: Record<WriteDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/**
 * Write config.json and the weights in HF names and orientation, so `from_pretrained` loads them.
 * Each file is written to a temp file and renamed; weights are written before config.json.
 */
export function saveModel(model: CausalLM, dir: string, options: SaveOptions = {}): void {
  const architecture = getArchitecture(model.config.modelType);
  const layout = architecture.layout(model.config);
  const dtype = options.dtype ?? 'F32';
  const tensors = layoutTensors(layout, model.config).map((spec) => {
    const variable = model.weights.get(spec.name);
    if (!variable) throw new Error(`saveModel: model has no weight "${spec.name}"`);
    return { name: spec.name, shape: spec.shape, data: () => variable.dataSync() as Float32Array };
  });
  writeCheckpointTensors(dir, tensors, { dtype, maxShardBytes: options.maxShardBytes });
  const hfConfig = { ...architecture.toHfConfig(model.config), torch_dtype: TORCH_DTYPE[dtype] };
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(hfConfig, null, 2) + '\n');
}

/** A random-weight checkpoint for tests: `hfConfig` is a config.json object (model_type required). */
export function writeRandomCheckpoint(dir: string, hfConfig: Record<string, unknown>, seed: number, options: RandomModelOptions & SaveOptions = {}): DecoderConfig {
  const architecture = getArchitecture(hfConfig.model_type, 'writeRandomCheckpoint');
  const config = architecture.fromHfConfig(hfConfig, 'writeRandomCheckpoint');
  const model = randomModelFromConfig(config, seed, options);
  try {
    saveModel(model, dir, options);
  } finally {
    model.dispose();
  }
  return config;
}
