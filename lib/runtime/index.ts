import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { AUTO_ORDER, backendNames, getBackendProvider, type BackendChoice, type BackendName, type LoadedBackend } from './backends/index.ts';
import { ensureGradients } from './gradients.ts';
import { BUILD_HINT } from './native/addon.ts';

export type { BackendChoice, BackendName } from './backends/index.ts';
export { backendNames } from './backends/index.ts';
export { ensureGradients } from './gradients.ts';
export { describeRuntime } from './describe.ts';

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

// tfjs's cpu backend greets every process with advice to install tfjs-node; leaf picks backends
// itself and says which on stderr, so that banner is noise in CLI output, logs and test runs. Set on
// import, since tensors can be made (random checkpoints, tests) before any initRuntime.
tf.env().set('PROD', true);

const loadedBackends = new Map<BackendName, LoadedBackend>();
let last: { choice: BackendChoice; info: RuntimeInfo } | undefined;

/**
 * Activates a tensor backend: options.backend, else LEAF_BACKEND, else 'auto' (the fastest that
 * loads, in AUTO_ORDER). An explicit choice that cannot load is an error carrying the reason.
 * Calling again with the same choice only re-activates the backend. Also registers tfjs's
 * gradients, which tfjs-core's Node bundle lacks.
 */
export async function initRuntime(options: { backend?: BackendChoice; quiet?: boolean } = {}): Promise<RuntimeInfo> {
  const choice = parseBackendChoice(options.backend ?? process.env.LEAF_BACKEND ?? 'auto');
  ensureGradients();
  if (last?.choice === choice) {
    if (tf.getBackend() !== last.info.tfBackend) await activate(last.info.tfBackend);
    return last.info;
  }
  const skipped: string[] = [];
  let name: BackendName | undefined;
  let loaded: LoadedBackend | undefined;
  for (const candidate of choice === 'auto' ? AUTO_ORDER : [choice]) {
    try {
      loaded = await loadBackend(candidate);
      name = candidate;
      break;
    } catch (error) {
      const reason = (error as Error).message;
      if (choice !== 'auto') throw new Error(`backend "${choice}" is not available: ${reason}`);
      skipped.push(`${candidate}: ${reason}`);
    }
  }
  if (!loaded || !name) throw new Error(`no tensor backend could be loaded (${skipped.join('; ')})`);
  await activate(loaded.tfBackend);

  const nativeSkip = skipped.find((line) => line.startsWith('native:'));
  const info: RuntimeInfo = {
    backend: name,
    tfBackend: loaded.tfBackend,
    blas: loaded.blas,
    threads: loaded.threads,
    versions: { node: process.versions.node, 'tfjs-core': tf.version_core, leaf: leafVersion(), ...loaded.versions },
    ...(nativeSkip ? { hint: `${nativeSkip.replace(/^native: /, 'native backend unavailable: ')}; ${BUILD_HINT}` } : {}),
  };
  if (!options.quiet) {
    const blas = info.blas ? `${info.blas}, ` : '';
    process.stderr.write(`leaf: backend ${info.backend} (${blas}${info.threads} thread${info.threads === 1 ? '' : 's'})\n`);
    if (info.hint) process.stderr.write(`leaf: hint: ${info.hint}\n`);
  }
  last = { choice, info };
  return info;
}

function parseBackendChoice(raw: string): BackendChoice {
  if (raw === 'auto' || (backendNames() as string[]).includes(raw)) return raw as BackendChoice;
  throw new Error(`unknown backend "${raw}" (choose one of: auto, ${backendNames().join(', ')})`);
}

/** Successful loads are kept; failures are retried next time (e.g. after building the addon). */
async function loadBackend(name: BackendName): Promise<LoadedBackend> {
  const cached = loadedBackends.get(name);
  if (cached) return cached;
  const loaded = await getBackendProvider(name).load();
  loadedBackends.set(name, loaded);
  return loaded;
}

async function activate(tfBackend: string): Promise<void> {
  if (!(await tf.setBackend(tfBackend))) throw new Error(`tfjs could not initialise backend "${tfBackend}"`);
  await tf.ready();
  // MathBackendCPU prints a banner recommending tfjs-node on first use; leaf has already chosen.
  const backend = tf.backend();
  if (backend instanceof MathBackendCPU) (backend as unknown as { firstUse: boolean }).firstUse = false;
}

function leafVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
