// Rotary position embeddings as HF computes them: inv_freq[j] = θ^(-2j/d), optionally rescaled
// by `rope_scaling`, and the rotate-half convention (pairs are (x[j], x[j + d/2]), not interleaved).
import type { RopeSpec } from './architectures/types.ts';
import type { RawConfig } from './hf-config.ts';

type RopeScaler = (invFreq: Float64Array, scaling: RawConfig, source: string) => RopeSpec;

function scalingNumber(scaling: RawConfig, field: string, source: string): number {
  const value = scaling[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${source}: rope_scaling.${field} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

const scalers: Record<string, RopeScaler> = {
  default: (invFreq) => ({ invFreq, scaling: 1 }),
  // Position interpolation: positions / factor, i.e. frequencies / factor.
  linear: (invFreq, scaling, source) => {
    const factor = scalingNumber(scaling, 'factor', source);
    return { invFreq: invFreq.map((f) => f / factor), scaling: 1 };
  },
  // Llama 3.1+: low frequencies divided by factor, high kept, a smooth blend in between.
  llama3: (invFreq, scaling, source) => {
    const factor = scalingNumber(scaling, 'factor', source);
    const low = scalingNumber(scaling, 'low_freq_factor', source);
    const high = scalingNumber(scaling, 'high_freq_factor', source);
    const original = scalingNumber(scaling, 'original_max_position_embeddings', source);
    const lowFreqWavelen = original / low;
    const highFreqWavelen = original / high;
    const out = invFreq.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highFreqWavelen) return f;
      if (wavelen > lowFreqWavelen) return f / factor;
      const smooth = (original / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
    return { invFreq: out, scaling: 1 };
  },
};

export function ropeSpec(headDim: number, theta: number, ropeScaling: unknown, source: string): RopeSpec {
  if (headDim % 2 !== 0) throw new Error(`${source}: RoPE needs an even head dimension, got ${headDim}`);
  const half = headDim / 2;
  const invFreq = new Float64Array(half);
  for (let j = 0; j < half; j++) invFreq[j] = 1 / theta ** ((2 * j) / headDim);
  if (ropeScaling === undefined || ropeScaling === null) return scalers.default(invFreq, {}, source);
  if (typeof ropeScaling !== 'object') throw new Error(`${source}: rope_scaling must be an object or null, got ${JSON.stringify(ropeScaling)}`);
  const scaling = ropeScaling as RawConfig;
  const type = scaling.rope_type ?? scaling.type ?? 'default';
  const scaler = typeof type === 'string' ? scalers[type] : undefined;
  if (!scaler) throw new Error(`${source}: rope_scaling type ${JSON.stringify(type)} is not supported (supported: ${Object.keys(scalers).join(', ')})`);
  return scaler(invFreq, scaling, source);
}

/**
 * cos and sin tables [B·T, heads·d] laid out like a 2-D projection output, so RoPE is two
 * same-shape multiplies (the fast path of every backend; size-1 broadcasts are slow on cpu).
 * `scale` is folded in (the attention's 1/√d for queries).
 */
export function ropeTables(rope: RopeSpec, positions: Int32Array, heads: number, scale = 1): { cos: Float32Array; sin: Float32Array } {
  const half = rope.invFreq.length;
  const headDim = 2 * half;
  const width = heads * headDim;
  const cos = new Float32Array(positions.length * width);
  const sin = new Float32Array(positions.length * width);
  const rowCos = new Float32Array(headDim);
  const rowSin = new Float32Array(headDim);
  for (let i = 0; i < positions.length; i++) {
    for (let j = 0; j < half; j++) {
      const angle = positions[i] * rope.invFreq[j];
      rowCos[j] = rowCos[j + half] = Math.cos(angle) * rope.scaling * scale;
      rowSin[j] = rowSin[j + half] = Math.sin(angle) * rope.scaling * scale;
    }
    for (let h = 0; h < heads; h++) {
      cos.set(rowCos, i * width + h * headDim);
      sin.set(rowSin, i * width + h * headDim);
    }
  }
  return { cos, sin };
}

/** R with x·R = rotate_half(x) = (−x₂, x₁): a tiny matMul instead of slice + concat (slow strided copies). */
export function rotateHalfMatrix(headDim: number): Float32Array {
  const half = headDim / 2;
  const matrix = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    matrix[(j + half) * headDim + j] = -1;
    matrix[j * headDim + j + half] = 1;
  }
  return matrix;
}
