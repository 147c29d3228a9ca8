import { byteLevelToBytes, indexUtf8, utf8 } from './bytes.ts';
import type { CharSpan } from './types.ts';

/**
 * How a vocabulary string maps back to the text it covers, derived from tokenizer.json:
 * byte-level vocabularies (GPT-2, LLaMA-3, Qwen) store bytes as printable characters,
 * SentencePiece-style ones write spaces as a replacement character (▁) and may fall back to <0xNN>
 * byte tokens, WordPiece/BPE may mark word pieces with a prefix or suffix.
 */
export interface SurfaceRules {
  byteLevel: boolean;
  spaceReplacement: string | undefined;
  byteFallback: boolean;
  continuingPrefix: string | undefined;
  endOfWordSuffix: string | undefined;
}

type Json = Record<string, unknown>;

function componentsOfType(node: unknown, type: string): Json[] {
  if (!node || typeof node !== 'object') return [];
  const obj = node as Json;
  const found = obj.type === type ? [obj] : [];
  for (const key of ['pretokenizers', 'decoders', 'processors', 'normalizers']) {
    const children = obj[key];
    if (Array.isArray(children)) for (const child of children) found.push(...componentsOfType(child, type));
  }
  return found;
}

export function surfaceRulesOf(tokenizerJson: Json): SurfaceRules {
  const model = (tokenizerJson.model ?? {}) as Json;
  const parts = [tokenizerJson.pre_tokenizer, tokenizerJson.decoder];
  const metaspace = parts.flatMap((p) => componentsOfType(p, 'Metaspace'))[0];
  const nonEmpty = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const modelType = model.type ?? (model.merges ? 'BPE' : undefined);
  return {
    byteLevel: parts.some((p) => componentsOfType(p, 'ByteLevel').length > 0),
    spaceReplacement: metaspace ? ((metaspace.replacement as string | undefined) ?? '\u2581') : undefined,
    byteFallback: model.byte_fallback === true,
    continuingPrefix: nonEmpty(model.continuing_subword_prefix) ?? (modelType === 'WordPiece' ? '##' : undefined),
    endOfWordSuffix: nonEmpty(model.end_of_word_suffix),
  };
}

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

/** Candidate byte sequences a token may cover, most likely first. */
export function surfacesOf(token: string, rules: SurfaceRules): Uint8Array[] {
  const raw = utf8.encode(token);
  if (rules.byteLevel) {
    const bytes = byteLevelToBytes(token);
    return bytes ? [bytes, raw] : [raw];
  }
  const byte = rules.byteFallback ? BYTE_TOKEN.exec(token) : null;
  if (byte) return [Uint8Array.of(parseInt(byte[1], 16)), raw];
  let s = token;
  if (rules.continuingPrefix && s.length > rules.continuingPrefix.length && s.startsWith(rules.continuingPrefix)) {
    s = s.slice(rules.continuingPrefix.length);
  }
  if (rules.endOfWordSuffix && s.length > rules.endOfWordSuffix.length && s.endsWith(rules.endOfWordSuffix)) {
    s = s.slice(0, -rules.endOfWordSuffix.length);
  }
  if (rules.spaceReplacement) s = s.replaceAll(rules.spaceReplacement, ' ');
  return s === token ? [raw] : [utf8.encode(s), raw];
}

const SPACE = 0x20;

function equalAt(haystack: Uint8Array, at: number, needle: Uint8Array): boolean {
  if (at + needle.length > haystack.length) return false;
  for (let i = 0; i < needle.length; i++) if (haystack[at + i] !== needle[i]) return false;
  return true;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  if (needle.length === 0) return from;
  const first = needle[0];
  for (let p = haystack.indexOf(first, from); p >= 0; p = haystack.indexOf(first, p + 1)) {
    if (equalAt(haystack, p, needle)) return p;
  }
  return -1;
}

/**
 * Character spans of `tokens` (a model's output for one piece of text, in order) inside `text`.
 * Tokens are matched left to right against the UTF-8 bytes of the text; whitespace a pre-tokenizer
 * dropped is skipped, a space the pre-tokenizer prepended is not looked for, and unknown tokens
 * (whose text is lost) take the gap up to the next matched token. A token that covers only part of
 * a multi-byte character gets the span of the character(s) it has bytes of.
 */
export function alignTokens(
  text: string,
  tokens: string[],
  rules: SurfaceRules,
  isUnknown: (token: string) => boolean,
  describe: () => string,
): CharSpan[] {
  const { bytes, charStart, charEnd } = indexUtf8(text);
  const n = bytes.length;
  const isSpaceAt = (b: number) => /\s/.test(text.slice(charStart[b], charEnd[b]));
  const charAt = (b: number) => (b < n ? charStart[b] : text.length);
  const spans: CharSpan[] = new Array(tokens.length);
  let pending: number[] = [];
  let cursor = 0;

  const skipSpaces = (from: number) => {
    let b = from;
    while (b < n && isSpaceAt(b)) b = utf8Next(b);
    return b;
  };
  const utf8Next = (b: number) => {
    let next = b + 1;
    while (next < n && charStart[next] === charStart[b]) next++;
    return next;
  };
  const matchAt = (at: number, surface: Uint8Array): [number, number] | undefined => {
    if (equalAt(bytes, at, surface)) return [at, surface.length];
    if (surface[0] === SPACE && equalAt(bytes, at, surface.subarray(1))) return [at, surface.length - 1];
    return undefined;
  };
  const locate = (surface: Uint8Array): [number, number] | undefined => {
    const direct = matchAt(cursor, surface);
    if (direct) return direct;
    const afterSpaces = skipSpaces(cursor);
    const skipped = afterSpaces > cursor ? matchAt(afterSpaces, surface) : undefined;
    if (skipped) return skipped;
    if (pending.length > 0) {
      const at = indexOfBytes(bytes, surface, cursor);
      if (at >= 0) return [at, surface.length];
    }
    return undefined;
  };

  /** Unknown tokens waiting for the next match get the text up to it, without surrounding whitespace. */
  const assignGap = (until: number) => {
    if (pending.length === 0) return;
    const from = Math.min(skipSpaces(cursor), until);
    const gap = text.slice(charAt(from), charAt(until));
    const span = { start: charAt(from), end: charAt(from) + gap.trimEnd().length };
    for (const j of pending) spans[j] = span;
    pending = [];
  };

  for (let i = 0; i < tokens.length; i++) {
    let match: [number, number] | undefined;
    for (const surface of surfacesOf(tokens[i], rules)) {
      match = locate(surface);
      if (match) break;
    }
    if (!match) {
      if (isUnknown(tokens[i])) {
        pending.push(i);
        continue;
      }
      throw new Error(
        `${describe()}: cannot align token ${JSON.stringify(tokens[i])} with the text at character ${charAt(cursor)} ` +
          `(${JSON.stringify(text.slice(charAt(cursor), charAt(cursor) + 20))})`,
      );
    }
    const [at, length] = match;
    assignGap(at);
    spans[i] = length === 0 ? { start: charAt(at), end: charAt(at) } : { start: charStart[at], end: charEnd[at + length - 1] };
    cursor = at + length;
  }
  assignGap(n);
  return spans;
}
