import * as tf from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { cpuUnsortedSegmentSumConfig } from '../kernels/cpu/UnsortedSegmentSum.ts';
import { registerBackendProvider } from './registry.ts';

let patched = false;

registerBackendProvider({
  name: 'cpu',
  async load() {
    if (!patched) {
      // The stock kernel is O(numSegments · size) and never finishes for an embedding-table gradient
      // at real vocabulary sizes.
      tf.unregisterKernel(tf.UnsortedSegmentSum, 'cpu');
      tf.registerKernel({ ...cpuUnsortedSegmentSumConfig, backendName: 'cpu' });
      patched = true;
    }
    return { tfBackend: 'cpu', blas: null, threads: 1, versions: { 'tfjs-backend-cpu': version_cpu } };
  },
});
