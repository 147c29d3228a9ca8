// Bit-level conversions between float32 and the 16-bit float formats of safetensors checkpoints.
// Everything works on bit patterns (Uint32Array/Uint16Array views), never through JS numbers,
// so NaN payloads survive and a 16-bit → 32-bit → 16-bit round trip is bit-exact.

const F16_TO_F32_BITS = buildF16Table();

function buildF16Table(): Uint32Array {
  const table = new Uint32Array(65536);
  const asFloat = new Float32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Subnormals (and zeros) are m · 2^-24, exact in float32.
      asFloat[h] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 0x1f) {
      table[h] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      table[h] = (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  return table;
}

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

export function f16ToF32(half: Uint16Array, out = new Float32Array(half.length)): Float32Array {
  const bits = bitsOf(out);
  for (let i = 0; i < half.length; i++) bits[i] = F16_TO_F32_BITS[half[i]];
  return out;
}

export function bf16ToF32(half: Uint16Array, out = new Float32Array(half.length)): Float32Array {
  const bits = bitsOf(out);
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16;
  return out;
}

/** Round to nearest even, as torch's `.half()` does; overflow becomes ±Inf. */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    if (mantissa === 0) return sign | 0x7c00;
    return sign | 0x7c00 | (mantissa >>> 13 || 0x200);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Result is subnormal in float16: value in units of 2^-24 is full · 2^(exponent-126).
    const shift = 126 - exponent;
    if (shift > 24) return sign;
    const full = 0x800000 | mantissa;
    const truncated = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (truncated & 1) === 1);
    return sign | (truncated + (roundUp ? 1 : 0));
  }
  const truncated = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  return remainder > 0x1000 || (remainder === 0x1000 && (truncated & 1) === 1) ? truncated + 1 : truncated;
}

/** Round to nearest even, as torch's `.bfloat16()` does. */
export function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
    // Keep NaN a NaN even when its payload lies only in the dropped low bits.
    const top = bits >>> 16;
    return (top & 0x7f) === 0 ? top | 0x0040 : top;
  }
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f32ToF16(values: Float32Array): Uint16Array {
  const bits = bitsOf(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

export function f32ToBf16(values: Float32Array): Uint16Array {
  const bits = bitsOf(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToBf16(bits[i]);
  return out;
}
