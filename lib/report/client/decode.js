// @ts-check
// Inflates the embedded payload (layout: lib/report/container.ts) and gives per-sample access to it.

const PAYLOAD_VERSION = 1;
const COLUMN_CTORS = { i8: Int8Array, u8: Uint8Array, i16: Int16Array, u16: Uint16Array, u32: Uint32Array, i32: Int32Array, f32: Float32Array, f64: Float64Array };

/** @param {string} base64 */
function base64Bytes(base64) {
  const fromBase64 = /** @type {any} */ (Uint8Array).fromBase64;
  if (typeof fromBase64 === 'function') return /** @type {Uint8Array} */ (fromBase64(base64));
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Inflates with the browser's own gzip: the input goes in as one chunk and the output chunks are
 * copied into one buffer (measured faster than Blob streams or Response.arrayBuffer).
 * @param {Uint8Array} bytes @returns {Promise<ArrayBuffer>}
 */
async function gunzip(bytes) {
  const inflate = new DecompressionStream('gzip');
  const writer = inflate.writable.getWriter();
  writer.write(/** @type {Uint8Array<ArrayBuffer>} */ (bytes)).catch(() => {});
  writer.close().catch(() => {});
  const reader = inflate.readable.getReader();
  /** @type {Uint8Array[]} */
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out.buffer;
}

/**
 * @param {string} base64
 * @returns {Promise<{header: any, columns: Record<string, any>}>}
 */
async function decodePayload(base64) {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('this report needs a little-endian machine');
  if (typeof DecompressionStream !== 'function') throw new Error('this browser cannot inflate the report data (DecompressionStream is missing); use a current Chrome, Firefox or Safari');
  const buffer = await gunzip(base64Bytes(base64));
  performance.mark('leaf:gunzip');
  const raw = new Uint8Array(buffer);
  if (String.fromCharCode(raw[0], raw[1], raw[2], raw[3]) !== 'LEAF') throw new Error('report data is damaged (bad magic)');
  const length = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + length)));
  if (header.version !== PAYLOAD_VERSION) throw new Error(`report data version ${header.version} is not supported by this page`);
  const base = Math.ceil((8 + length) / 8) * 8;
  /** @type {Record<string, any>} */
  const columns = {};
  for (const [name, [type, offset, count]] of Object.entries(header.columns)) {
    const Ctor = /** @type {any} */ (COLUMN_CTORS)[type];
    columns[name] = new Ctor(buffer, base + offset, count);
  }
  return { header, columns };
}

/**
 * @typedef {{
 *   row: number, id: string, region: string, text: string, count: number,
 *   start: Int32Array, end: Int32Array, tokens: string[],
 *   teacherNorm: Float64Array, studentNorm: Float64Array, delta: Float64Array,
 *   teacherRaw: Float64Array, studentRaw: Float64Array, flagged: Uint8Array,
 *   spans: [number, number][], teacherLoss: number, studentLoss: number, threshold: number
 * }} SampleData
 */

class Corpus {
  /** @param {{header: any, columns: Record<string, any>}} payload */
  constructor({ header, columns }) {
    this.header = header;
    this.c = columns;
    this.count = header.samples.count;
    /** @type {string[]} */
    this.ids = header.samples.id;
    /** @type {string[]} */
    this.regions = header.samples.region;
    /** @type {string[]} */
    this.texts = header.samples.text;
    this.flaggedFraction = new Float32Array(this.count);
    this.lossGap = new Float32Array(this.count);
    const { tokenOffset, flagged, teacherLoss, studentLoss } = columns;
    for (let r = 0; r < this.count; r++) {
      let f = 0;
      for (let t = tokenOffset[r]; t < tokenOffset[r + 1]; t++) f += flagged[t];
      const n = tokenOffset[r + 1] - tokenOffset[r];
      this.flaggedFraction[r] = n ? f / n : 0;
      this.lossGap[r] = studentLoss[r] - teacherLoss[r];
    }
    /** @type {Map<number, string>} */
    this.overrides = new Map();
    const overrideIndex = columns.tokenOverrideIndex;
    for (let k = 0; k < overrideIndex.length; k++) this.overrides.set(overrideIndex[k], header.tokenOverrideText[k]);
    /** @type {Map<number, any[]>} */
    this.counterfactuals = new Map(header.counterfactuals);
    /** @type {string[] | null} */
    this.lowerTexts = null;
    // Where each row's per-token values start in the sparse explicit columns (only rows with the bit set have any).
    /** @type {Record<string, Uint32Array>} */
    this.explicitStart = {};
    for (const [column, bit] of Object.entries(header.encoding.explicit)) {
      const starts = new Uint32Array(this.count);
      let at = 0;
      for (let r = 0; r < this.count; r++) {
        starts[r] = at;
        if (columns.rowMode[r] & /** @type {number} */ (bit)) at += tokenOffset[r + 1] - tokenOffset[r];
      }
      this.explicitStart[column] = starts;
    }
  }

  /** @param {string} id */
  rowOf(id) {
    return this.ids.indexOf(id);
  }

  /** @param {number} r @returns {number} */
  tokenCount(r) {
    return this.c.tokenOffset[r + 1] - this.c.tokenOffset[r];
  }

  /** Texts and ids lower-cased once, on the first search. */
  searchable() {
    if (!this.lowerTexts) this.lowerTexts = this.texts.map((text, r) => `${this.ids[r]}\u0000${text}`.toLowerCase());
    return this.lowerTexts;
  }

  /** @param {number} r @returns {SampleData} */
  sample(r) {
    const c = this.c;
    const { quantMax, explicit } = this.header.encoding;
    const from = c.tokenOffset[r];
    const count = c.tokenOffset[r + 1] - from;
    const text = this.texts[r];
    const start = new Int32Array(count);
    const end = new Int32Array(count);
    const teacherNorm = new Float64Array(count);
    const studentNorm = new Float64Array(count);
    const diff = new Float64Array(count);
    /** @type {string[]} */
    const tokens = [];
    let previousEnd = 0;
    for (let i = 0; i < count; i++) {
      start[i] = previousEnd + c.charGap[from + i];
      end[i] = start[i] + c.charLen[from + i];
      previousEnd = end[i];
      teacherNorm[i] = c.teacherNorm[from + i] / quantMax;
      studentNorm[i] = c.studentNorm[from + i] / quantMax;
      diff[i] = teacherNorm[i] - studentNorm[i];
      const override = this.overrides.get(from + i);
      tokens.push(override !== undefined ? override : text.slice(start[i], end[i]));
    }
    /** @param {string} column @param {Float64Array} reference @param {number} slot */
    const derive = (column, reference, slot) => {
      const a = c.affine[r * 6 + slot];
      const b = c.affine[r * 6 + slot + 1];
      const stored = c.rowMode[r] & explicit[column] ? c[column].subarray(this.explicitStart[column][r]) : null;
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = a + b * (stored ? stored[i] / quantMax : reference[i]);
      return out;
    };
    /** @type {[number, number][]} */
    const spans = [];
    for (let k = c.spanOffset[r]; k < c.spanOffset[r + 1]; k++) spans.push([c.spanStart[k], c.spanEnd[k]]);
    return {
      row: r,
      id: this.ids[r],
      region: this.regions[r],
      text,
      count,
      start,
      end,
      tokens,
      teacherNorm,
      studentNorm,
      delta: derive('delta', diff, 4),
      teacherRaw: derive('teacherRaw', teacherNorm, 0),
      studentRaw: derive('studentRaw', studentNorm, 2),
      flagged: c.flagged.subarray(from, from + count),
      spans,
      teacherLoss: c.teacherLoss[r],
      studentLoss: c.studentLoss[r],
      threshold: c.threshold[r],
    };
  }

  /** Attribution rows a top-term entry was flagged in. @param {{offset: number, rows: number}} term */
  termRows(term) {
    return Array.from(this.c.termRows.subarray(term.offset, term.offset + term.rows));
  }
}
