import type { CharSpan, Encoding, RenderedChat, TextTokenizer, TokenizedChat } from './types.ts';

const prefixCache = new WeakMap<TextTokenizer, number[]>();

/** Ids the tokenizer puts before any text when adding special tokens (its BOS, if it adds one). */
function prefixSpecialIds(tokenizer: TextTokenizer): number[] {
  let ids = prefixCache.get(tokenizer);
  if (!ids) {
    const encoding = tokenizer.encode('a', { addSpecialTokens: true });
    const firstText = encoding.special.indexOf(false);
    ids = encoding.ids.slice(0, firstText < 0 ? encoding.ids.length : firstText);
    prefixCache.set(tokenizer, ids);
  }
  return ids;
}

function overlapping(offsets: CharSpan[], span: CharSpan): number[] {
  const out: number[] = [];
  offsets.forEach((o, i) => {
    if (o.start < span.end && o.end > span.start) out.push(i);
  });
  return out;
}

/**
 * Tokenises a rendered chat. Chat templates write their own BOS into the text (LLaMA-3's
 * `<|begin_of_text|>`), so the text is encoded without the tokenizer's special tokens and its
 * prefix (BOS) is added only when the text does not already start with it: never two BOS, never
 * none. Suffix specials are not added: the template decides how a turn ends.
 */
export function tokenizeChat(tokenizer: TextTokenizer, rendered: RenderedChat): TokenizedChat {
  const encoded = tokenizer.encode(rendered.text, { addSpecialTokens: false });
  const prefix = prefixSpecialIds(tokenizer);
  const hasPrefix = prefix.every((id, i) => encoded.ids[i] === id);
  const encoding: Encoding = hasPrefix
    ? encoded
    : {
        ids: [...prefix, ...encoded.ids],
        offsets: [...prefix.map(() => ({ start: 0, end: 0 })), ...encoded.offsets],
        special: [...prefix.map(() => true), ...encoded.special],
      };
  const responseTokens = overlapping(encoding.offsets, rendered.response);
  const afterResponse =
    responseTokens.length > 0
      ? responseTokens[responseTokens.length - 1] + 1
      : encoding.offsets.findIndex((o) => o.start >= rendered.response.end && o.end > o.start);
  const closing = afterResponse < 0 ? -1 : encoding.special.indexOf(true, afterResponse);
  const responseEndTokens = closing < 0 ? [] : Array.from({ length: closing - afterResponse + 1 }, (_, k) => afterResponse + k);
  return {
    ...rendered,
    encoding,
    responseTokens,
    instructionTokens: overlapping(encoding.offsets, rendered.instruction),
    responseEndTokens,
  };
}
