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

const hex = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;

/**
 * What makes a string unusable as text, or undefined: a lone UTF-16 surrogate (JSON's "\ud800"
 * parses, but no file format can store it, so it would come back as U+FFFD and no longer match
 * the data), or a NUL character (never meant in text; it ends strings in C tools and tokenizers).
 */
function textProblem(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0) return `a NUL character (\\u0000) at character ${i}`;
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      else return `a lone surrogate (${hex(code)}) at character ${i}, which is not valid Unicode text`;
    }
  }
  return undefined;
}

/** The first string in a parsed record (field names included) that is not valid text, described. */
export function invalidText(value: unknown, where = ''): string | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem && `${where ? `field "${where}"` : 'the record'} holds ${problem}`;
  }
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return undefined;
  const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    const path = where ? `${where}${Array.isArray(value) ? `[${key}]` : `.${key}`}` : key;
    const keyProblem = Array.isArray(value) ? undefined : textProblem(key);
    if (keyProblem) return `field name "${path}" holds ${keyProblem}`;
    const problem = invalidText(item, path);
    if (problem) return problem;
  }
  return undefined;
}
