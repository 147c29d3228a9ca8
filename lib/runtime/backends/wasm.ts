import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { wasmBatchMatMulConfig } from '../kernels/wasm/BatchMatMul.ts';
import { wasmFusedMatMulConfig } from '../kernels/wasm/_FusedMatMul.ts';
import { wasmUnsortedSegmentSumConfig } from '../kernels/wasm/UnsortedSegmentSum.ts';
import { registerBackendProvider } from './registry.ts';

let prepared: { version: string } | undefined;

/** Kernels must be replaced before the backend initialises: that is when tfjs runs their setupFuncs. */
function patchKernels(): void {
  const stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  const stockFused = tf.getKernel(tf._FusedMatMul, 'wasm');
  const replacements = [
    wasmBatchMatMulConfig(stockMatMul),
    wasmFusedMatMulConfig(stockFused, stockMatMul),
    wasmUnsortedSegmentSumConfig,
  ];
  for (const config of replacements) {
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

registerBackendProvider({
  name: 'wasm',
  async load() {
    if (!prepared) {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const packageDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(join(packageDir, 'dist') + '/');
      patchKernels();
      prepared = { version: wasm.version_wasm };
    }
    return { tfBackend: 'wasm', blas: null, threads: 1, versions: { 'tfjs-backend-wasm': prepared.version } };
  },
});
