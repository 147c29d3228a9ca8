// Checkpoint directories in Hugging Face layout: config.json + model.safetensors (or shards + index).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { CausalLM, DecoderConfig } from './types.ts';
import { getArchitecture, type Architecture } from './architectures/index.ts';
import { layoutTensors } from './layout-tensors.ts';
import { DecoderModel } from './decoder.ts';
import { CheckpointReader, writeCheckpointTensors } from './checkpoint.ts';
import { randomModelFromConfig, type RandomModelOptions } from './random.ts';
import { variableFrom } from './variables.ts';
import type { WriteDtype } from './safetensors.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export interface LoadOptions {
  /** Make the weights trainable variables (students being distilled); default false (frozen). */
  trainable?: boolean;
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
  const architecture = getArchitecture((raw as Record<string, unknown>).model_type, path);
  return { config: architecture.fromHfConfig(raw as Record<string, unknown>, path), architecture };
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<CausalLM> {
  return loadDecoder(dir, options);
}

export function loadDecoder(dir: string, options: LoadOptions = {}): DecoderModel {
  const { config, architecture } = readConfig(dir);
  const layout = architecture.layout(config);
  const checkpoint = CheckpointReader.open(dir);
  const weights = new Map<string, tf.Variable>();
  try {
    for (const spec of layoutTensors(layout, config)) {
      const found = [spec.name, ...(architecture.checkpointAliases?.(spec.name) ?? [])].find((name) => checkpoint.has(name));
      if (!found) throw new Error(`${dir}: checkpoint is missing tensor "${spec.name}" (expected shape [${spec.shape}])`);
      const { shape } = checkpoint.info(found);
      if (shape.length !== spec.shape.length || shape.some((d, i) => d !== spec.shape[i])) {
        throw new Error(`${dir}: tensor "${found}" has shape [${shape}], expected [${spec.shape}] from config.json`);
      }
      weights.set(spec.name, variableFrom(checkpoint.readFloat32(found), spec.shape, options.trainable ?? false));
    }
  } catch (error) {
    for (const variable of weights.values()) variable.dispose();
    throw error;
  } finally {
    checkpoint.close();
  }
  return new DecoderModel(config, dir, weights, layout);
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
