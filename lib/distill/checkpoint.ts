import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensors, saveModel, writeSafetensors } from '../models/index.ts';
import type { CausalLM } from '../models/types.ts';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic.ts';
import type { PrngState } from './data/prng.ts';
import type { AdamW } from './optim/adamw.ts';

/** Files of a HF checkpoint besides the weights that a student directory may carry; copied when present. */
const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'tokenizer.model', 'added_tokens.json', 'chat_template.jinja', 'generation_config.json',
];

export const STATE_FILE = 'trainer-state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Everything besides weights and moments that an exact resume needs. */
export interface TrainerState {
  version: 1;
  /** Optimizer steps done. */
  step: number;
  /** Epoch of the next step, and steps of it already done. */
  epoch: number;
  stepInEpoch: number;
  /** PRNG state at the start of `epoch`: replaying it regenerates that epoch's batch order. */
  epochPrng: PrngState;
  elapsedS: number;
  best?: { step: number; metric: 'val_loss' | 'val_accuracy'; value: number; valLoss: number };
  /** The settings the run was started with; a resume must use the same. */
  settings: Record<string, unknown>;
}

/** A HF-layout copy of the student (weights, config, tokenizer files) at `dir`, replacing what was there. */
export function saveStudent(student: CausalLM, tokenizerDir: string, dir: string): void {
  saveModel(student, dir);
  for (const name of TOKENIZER_FILES) if (existsSync(join(tokenizerDir, name))) copyFileSync(join(tokenizerDir, name), join(dir, name));
}

/** Writes the directory under a temporary name and renames it into place, so a kill leaves either nothing or a whole checkpoint. */
export function writeDirectoryAtomic(dir: string, fill: (temp: string) => void): void {
  // A kill between the two renames below leaves DIR.PID.old beside a complete DIR: garbage too.
  removeStaleTemps(dirname(dir), `${basename(dir)}.`, existsSync(dir) ? ['.tmp', '.old'] : ['.tmp']);
  const temp = `${dir}.${process.pid}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  try {
    fill(temp);
    const old = `${dir}.${process.pid}.old`;
    if (existsSync(dir)) renameSync(dir, old);
    renameSync(temp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

export function saveCheckpoint(dir: string, student: CausalLM, tokenizerDir: string, optimizer: AdamW, state: TrainerState): void {
  writeDirectoryAtomic(dir, (temp) => {
    saveStudent(student, tokenizerDir, temp);
    const { steps, tensors } = optimizer.exportState();
    writeSafetensors(join(temp, OPTIMIZER_FILE), [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), {
      metadata: { steps: String(steps) },
    });
    writeFileAtomic(join(temp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  });
}

/** The newest complete checkpoint under `checkpointsDir`, if any. */
export function latestCheckpoint(checkpointsDir: string): { dir: string; state: TrainerState } | undefined {
  if (!existsSync(checkpointsDir)) return undefined;
  const names = readdirSync(checkpointsDir).filter((name) => /^step-\d+$/.test(name)).sort().reverse();
  for (const name of names) {
    const dir = join(checkpointsDir, name);
    if (!existsSync(join(dir, STATE_FILE)) || !existsSync(join(dir, OPTIMIZER_FILE))) continue;
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as TrainerState;
    if (state.version !== 1) throw new Error(`${join(dir, STATE_FILE)}: unknown trainer state version ${state.version}`);
    return { dir, state };
  }
  return undefined;
}

export function loadOptimizerState(dir: string, optimizer: AdamW, steps: number): void {
  const path = join(dir, OPTIMIZER_FILE);
  optimizer.importState(steps, readSafetensors(path), path);
}

/** Keeps the newest `keep` checkpoints. */
export function pruneCheckpoints(checkpointsDir: string, keep: number): void {
  const names = readdirSync(checkpointsDir).filter((name) => /^step-\d+$/.test(name)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) rmSync(join(checkpointsDir, name), { recursive: true, force: true });
}
