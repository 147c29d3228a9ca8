import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, uninitializedFloat32 } from './values.ts';
import type { NativeKernelFactory } from './types.ts';
import { MASKED_SOFTMAX, RMS_NORM, RMS_NORM_GRAD, ROPE, ROPE_GRAD, SILU_GATE, SILU_GATE_GRAD, SOFTMAX_GRAD } from '../shared/kernel-names.ts';

/** The float32 buffers of a fused kernel's named inputs (these kernels have no other dtype). */
function inputs(backend: MathBackendCPU, kernel: string, given: Record<string, TensorInfo>, names: string[]): Float32Array[] {
  return names.map((name) => {
    const values = float32Values(backend, given[name]);
    if (!values) throw new Error(`${kernel}: ${name} must be float32, got ${given[name]?.dtype}`);
    return values;
  });
}

/** The decoder's fused element-wise chains (see ../shared/kernel-names.ts), one threaded C pass each. */
export const nativeFusedKernels: NativeKernelFactory = (addon) => [
  {
    kernelName: RMS_NORM,
    kernelFunc: ({ inputs: given, backend, attrs }) => {
      const cpu = backend as MathBackendCPU;
      const [x, w] = inputs(cpu, RMS_NORM, given as Record<string, TensorInfo>, ['x', 'w']);
      const shape = (given.x as TensorInfo).shape;
      const rows = x.length / w.length;
      const [out, r] = [uninitializedFloat32(x.length), uninitializedFloat32(rows)];
      addon.rmsNorm(x, w, (attrs as { eps: number }).eps, out, r);
      return [cpu.makeTensorInfo(shape, 'float32', out), cpu.makeTensorInfo([rows], 'float32', r)];
    },
  },
  {
    kernelName: RMS_NORM_GRAD,
    kernelFunc: ({ inputs: given, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [dy, x, w, r] = inputs(cpu, RMS_NORM_GRAD, given as Record<string, TensorInfo>, ['dy', 'x', 'w', 'r']);
      const [dx, dw] = [uninitializedFloat32(x.length), uninitializedFloat32(w.length)];
      addon.rmsNormGrad(dy, x, w, r, dx, dw);
      return [cpu.makeTensorInfo((given.x as TensorInfo).shape, 'float32', dx), cpu.makeTensorInfo([w.length], 'float32', dw)];
    },
  },
  {
    kernelName: SILU_GATE,
    kernelFunc: ({ inputs: given, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [g, u] = inputs(cpu, SILU_GATE, given as Record<string, TensorInfo>, ['g', 'u']);
      const out = uninitializedFloat32(g.length);
      addon.siluGate(g, u, out);
      return cpu.makeTensorInfo((given.g as TensorInfo).shape, 'float32', out);
    },
  },
  {
    kernelName: SILU_GATE_GRAD,
    kernelFunc: ({ inputs: given, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [dy, g, u] = inputs(cpu, SILU_GATE_GRAD, given as Record<string, TensorInfo>, ['dy', 'g', 'u']);
      const [dg, du] = [uninitializedFloat32(g.length), uninitializedFloat32(g.length)];
      addon.siluGateGrad(dy, g, u, dg, du);
      const shape = (given.g as TensorInfo).shape;
      return [cpu.makeTensorInfo(shape, 'float32', dg), cpu.makeTensorInfo(shape, 'float32', du)];
    },
  },
  {
    kernelName: MASKED_SOFTMAX,
    kernelFunc: ({ inputs: given, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [scores, bias] = inputs(cpu, MASKED_SOFTMAX, given as Record<string, TensorInfo>, ['scores', 'bias']);
      const shape = (given.scores as TensorInfo).shape;
      const out = uninitializedFloat32(scores.length);
      addon.maskedSoftmax(scores, bias, shape[1], shape[2], shape[3], out);
      return cpu.makeTensorInfo(shape, 'float32', out);
    },
  },
  {
    kernelName: SOFTMAX_GRAD,
    kernelFunc: ({ inputs: given, backend }) => {
      const cpu = backend as MathBackendCPU;
      const [y, dy] = inputs(cpu, SOFTMAX_GRAD, given as Record<string, TensorInfo>, ['y', 'dy']);
      const shape = (given.y as TensorInfo).shape;
      const dx = uninitializedFloat32(y.length);
      addon.softmaxGrad(y, dy, shape[shape.length - 1], dx);
      return cpu.makeTensorInfo(shape, 'float32', dx);
    },
  },
  ...([
    [ROPE, 'x', (a: Float32Array, c: Float32Array, s: Float32Array, d: number, o: Float32Array) => addon.rope(a, c, s, d, o)],
    [ROPE_GRAD, 'dy', (a: Float32Array, c: Float32Array, s: Float32Array, d: number, o: Float32Array) => addon.ropeGrad(a, c, s, d, o)],
  ] as const).map(([kernelName, first, run]) => ({
    kernelName,
    kernelFunc: ({ inputs: given, backend, attrs }: Parameters<ReturnType<NativeKernelFactory>[number]['kernelFunc']>[0]) => {
      const cpu = backend as MathBackendCPU;
      const [x, cos, sin] = inputs(cpu, kernelName, given as Record<string, TensorInfo>, [first, 'cos', 'sin']);
      const out = uninitializedFloat32(x.length);
      run(x, cos, sin, (attrs as { headDim: number }).headDim, out);
      return cpu.makeTensorInfo((given[first] as TensorInfo).shape, 'float32', out);
    },
  })),
];
