// Position ids and the additive attention bias, computed as plain integers on the host: they carry
// no gradient and depend only on the attention mask (and the cache's history), never on weights.

/** What a KV cache remembers about the keys it holds, per sample. */
export interface KeyHistory {
  /** 1 for real keys, 0 for padding, one entry per cached position. */
  mask: number[][];
  /** Position id of each cached key. */
  positions: number[][];
}

export interface AttentionPlan {
  /** [B·T] position ids of the new tokens: cumsum(mask) − 1 over the sample's real tokens, 0 on padding. */
  positions: Int32Array;
  /** [B·T·Tk] additive bias: 0 where query may attend, MASKED otherwise. */
  bias: Float32Array;
  keyLength: number;
  /** History after these tokens are appended. */
  next: KeyHistory;
}

// Finite (not -Inf): a padding query whose every key is masked gets a uniform softmax, not NaN,
// so no NaN can reach real positions through the backward pass.
export const MASKED = -1e9;

/**
 * `mask` holds [B][T] for the new tokens (or [B][past+T] in HF's convention, whose first `past`
 * columns must match the history); null means all real.
 */
export function planAttention(batch: number, length: number, mask: number[][] | null, history: KeyHistory | null, slidingWindow?: number): AttentionPlan {
  const past = history ? history.mask[0]?.length ?? 0 : 0;
  if (history && history.mask.length !== batch) throw new Error(`KV cache holds ${history.mask.length} samples but the input has ${batch}`);
  const newMask = newTokenMask(batch, length, past, mask, history);
  const keyLength = past + length;
  const positions = new Int32Array(batch * length);
  const bias = new Float32Array(batch * length * keyLength);
  const nextMask: number[][] = [];
  const nextPositions: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const keyMask = [...(history?.mask[b] ?? []), ...newMask[b]];
    const keyPositions = [...(history?.positions[b] ?? [])];
    let seen = (history?.mask[b] ?? []).reduce((a, m) => a + m, 0);
    for (let t = 0; t < length; t++) {
      seen += newMask[b][t];
      const position = Math.max(seen - 1, 0);
      positions[b * length + t] = position;
      keyPositions.push(position);
    }
    for (let t = 0; t < length; t++) {
      const query = past + t;
      const queryPosition = keyPositions[query];
      const row = (b * length + t) * keyLength;
      for (let k = 0; k < keyLength; k++) {
        const visible = k <= query && keyMask[k] === 1 && (slidingWindow === undefined || queryPosition - keyPositions[k] < slidingWindow);
        if (!visible) bias[row + k] = MASKED;
      }
    }
    nextMask.push(keyMask);
    nextPositions.push(keyPositions);
  }
  return { positions, bias, keyLength, next: { mask: nextMask, positions: nextPositions } };
}

function newTokenMask(batch: number, length: number, past: number, mask: number[][] | null, history: KeyHistory | null): number[][] {
  if (!mask) return Array.from({ length: batch }, () => new Array<number>(length).fill(1));
  if (mask.length !== batch) throw new Error(`attentionMask has ${mask.length} rows but the input has ${batch} samples`);
  const width = mask[0]?.length ?? 0;
  if (width !== length && width !== past + length) {
    throw new Error(`attentionMask has ${width} columns; expected ${length} (new tokens)${past ? ` or ${past + length} (cached + new)` : ''}`);
  }
  return mask.map((row, b) => {
    if (!row.every((m) => m === 0 || m === 1)) throw new Error(`attentionMask row ${b} must contain only 0 and 1`);
    if (width === length) return row;
    if (history && row.slice(0, past).some((m, k) => m !== history.mask[b][k])) {
      throw new Error(`attentionMask row ${b}: its first ${past} columns differ from the mask the KV cache was built with`);
    }
    return row.slice(past);
  });
}
