import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

// Minimal placeholder until the runtime issue lands: only the `cpu` backend. The signature is final.
export type BackendChoice = 'auto' | 'native' | 'wasm' | 'cpu' | 'tfjs-node' | 'tfjs-node-gpu';

export interface RuntimeInfo {
  /** The backend leaf resolved to. */
  backend: Exclude<BackendChoice, 'auto'>;
  /** tfjs's own name of the active backend. */
  tfBackend: string;
  blas: string | null;
  threads: number;
  versions: Record<string, string>;
  /** Why a faster backend was not used, when one was not. */
  hint?: string;
}

export async function initRuntime(options: { backend?: BackendChoice; quiet?: boolean } = {}): Promise<RuntimeInfo> {
  const choice = options.backend ?? (process.env.LEAF_BACKEND as BackendChoice | undefined) ?? 'auto';
  if (choice !== 'auto' && choice !== 'cpu') throw new Error(`backend "${choice}" is not available yet`);
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', tfBackend: tf.getBackend(), blas: null, threads: 1, versions: { 'tfjs-core': tf.version_core } };
}
