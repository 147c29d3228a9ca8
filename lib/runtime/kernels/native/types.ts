import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../../native/addon.ts';

/** A kernel for the `native` backend; backendName is filled in at registration. */
export type NativeKernel = Omit<KernelConfig, 'backendName'>;

/** Builds kernels from the addon; `stock(name)` is the cpu kernel to defer to for cases it does not cover. */
export type NativeKernelFactory = (addon: NativeAddon, stock: (kernelName: string) => KernelFunc) => NativeKernel[];
