import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { registerBackendProvider } from './registry.ts';
import type { BackendName } from './types.ts';

/**
 * @tensorflow/tfjs-node(-gpu) are optional dependencies whose install downloads libtensorflow; where
 * that failed they are simply absent, so they are imported only when asked for.
 */
function tfjsNodeProvider(name: BackendName, packageName: string): void {
  registerBackendProvider({
    name,
    async load() {
      try {
        await import(packageName);
      } catch (error) {
        throw new Error(`${packageName} is not installed or failed to load (${(error as Error).message.split('\n')[0]})`);
      }
      if (!tf.findBackendFactory('tensorflow'))
        throw new Error(`${packageName} loaded but registered no "tensorflow" backend with this copy of tfjs-core`);
      return {
        tfBackend: 'tensorflow',
        blas: 'libtensorflow',
        threads: availableParallelism(),
        versions: { [packageName.replace('@tensorflow/', '')]: packageVersion(packageName) },
      };
    },
  });
}

tfjsNodeProvider('tfjs-node-gpu', '@tensorflow/tfjs-node-gpu');
tfjsNodeProvider('tfjs-node', '@tensorflow/tfjs-node');

function packageVersion(packageName: string): string {
  const manifest = createRequire(import.meta.url)(`${packageName}/package.json`) as { version?: string };
  return manifest.version ?? 'unknown';
}
