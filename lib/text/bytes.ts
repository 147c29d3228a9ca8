/**
 * GPT-2's reversible byte <-> printable-character table used by byte-level BPE vocabularies
 * (GPT-2, LLaMA-3, Qwen): printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100...
 */
function buildByteToChar(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  return table;
}

export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Byte-level vocabulary string of raw bytes. */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/** Raw bytes of a byte-level vocabulary string, or undefined if it contains a character outside the table. */
export function byteLevelToBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = CHAR_TO_BYTE.get(token[i]);
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

export const utf8 = new TextEncoder();

/**
 * UTF-8 bytes of `text` and, for each byte, the UTF-16 index where its character starts and ends,
 * so a byte range maps to the characters it touches.
 */
export interface Utf8Index {
  bytes: Uint8Array;
  charStart: Uint32Array;
  charEnd: Uint32Array;
}

export function indexUtf8(text: string): Utf8Index {
  const bytes = utf8.encode(text);
  const charStart = new Uint32Array(bytes.length);
  const charEnd = new Uint32Array(bytes.length);
  let b = 0;
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    // Lone surrogates encode as U+FFFD (3 bytes), exactly as TextEncoder does.
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) {
      charStart[b + k] = i;
      charEnd[b + k] = i + units;
    }
    b += n;
    i += units;
  }
  if (b !== bytes.length) throw new Error(`internal error: UTF-8 index covers ${b} of ${bytes.length} bytes`);
  return { bytes, charStart, charEnd };
}
