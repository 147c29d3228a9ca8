const BOM = [0xef, 0xbb, 0xbf];

/** Offset of the first byte after a UTF-8 byte-order mark, if any. */
export function bomLength(bytes: Uint8Array): number {
  return BOM.every((byte, i) => bytes[i] === byte) ? BOM.length : 0;
}

/** The first character that is not whitespace (after a BOM), or '' for a blank file. */
export function firstSignificantChar(head: Uint8Array): string {
  for (let i = bomLength(head); i < head.length; i++) {
    const char = String.fromCharCode(head[i]);
    if (!/\s/.test(char)) return char;
  }
  return '';
}

export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
