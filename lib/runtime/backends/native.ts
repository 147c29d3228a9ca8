import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';
import { MathBackendCPU, version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { describeBlas, loadAddon, type NativeAddon } from '../native/addon.ts';
import { NATIVE_KERNEL_FACTORIES } from '../kernels/native/index.ts';
import { registerBackendProvider } from './registry.ts';
import { nativeBufferPool } from './buffer-pool.ts';
import { profiledAddon, profiledKernel } from '../profile.ts';

export const NATIVE_BACKEND = 'native';

/**
 * The native backend's own float32 storage of `t`, with the addon, when `t` is the only tensor
 * holding that storage (writing into it changes nothing else); null on other backends or when the
 * storage is shared (a clone, a reshape, the tensor a variable was made from).
 */
export function ownedNativeStorage(t: tf.Tensor): { values: Float32Array; addon: NativeAddon } | null {
  if (!registered || tf.getBackend() !== NATIVE_BACKEND || t.dtype !== 'float32') return null;
  const entry = (tf.backend() as MathBackendCPU).data.get(t.dataId) as { values?: unknown; refCount: number } | undefined;
  return entry?.refCount === 1 && entry.values instanceof Float32Array ? { values: entry.values, addon: loadAddon() } : null;
}

let registered = false;

/** The cpu backend's storage, with kernel outputs recycled through the buffer pool (see buffer-pool.ts). */
class NativeBackend extends MathBackendCPU {
  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    nativeBufferPool.claim(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    nativeBufferPool.claim(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.get(dataId)?.values;
    const disposed = super.disposeData(dataId, force);
    if (disposed && values && !this.data.has(dataId)) nativeBufferPool.release(values);
    return disposed;
  }

  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    return nativeBufferPool.owns(values) ? (values as Float32Array | Int32Array).slice() : values;
  }

  override dispose(): void {
    super.dispose();
    nativeBufferPool.clear();
  }
}

/**
 * Memory this process freed and keeps for reuse: free heap once the native backend retains freed
 * memory, and the buffers its pool holds for the next kernel outputs; else 0.
 */
export function retainedFreeBytes(): number {
  return registered ? loadAddon().retainedFreeBytes() + nativeBufferPool.stats().pooledBytes : 0;
}

/**
 * `native` is the tfjs cpu backend (same class, same kernels) with the kernels that dominate a
 * transformer pass replaced: matmuls through OpenBLAS, element-wise and data-movement kernels in C.
 * Everything not overridden is the stock cpu kernel, so gradients (registered per kernel name) run
 * unchanged on top of ours.
 */
function registerNativeBackend(addon: NativeAddon): void {
  if (registered) return;
  const stock = (name: string) => tf.getKernel(name, 'cpu').kernelFunc;
  const overrides = NATIVE_KERNEL_FACTORIES.flatMap((factory) => factory(profiledAddon(addon), stock));
  const overridden = new Set(overrides.map((config) => config.kernelName));
  const register = (config: Omit<tf.KernelConfig, 'backendName'>) =>
    tf.registerKernel({ ...config, kernelFunc: profiledKernel(config.kernelName, config.kernelFunc), backendName: NATIVE_BACKEND });
  for (const config of tf.getKernelsForBackend('cpu')) if (!overridden.has(config.kernelName)) register(config);
  for (const config of overrides) register(config);
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend());
  // Every kernel output is a fresh typed array: without this, each one pays first-touch page faults.
  addon.retainFreedMemory();
  registered = true;
}

registerBackendProvider({
  name: 'native',
  async load() {
    const addon = loadAddon();
    registerNativeBackend(addon);
    return {
      tfBackend: NATIVE_BACKEND,
      blas: describeBlas(addon),
      threads: addon.info().threads,
      versions: { 'tfjs-backend-cpu': version_cpu },
    };
  },
});
