import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The parts of an @huggingface/tokenizers 0.2.0 `Tokenizer` that its `encode` runs through. The
 * library returns token strings without character offsets, so we drive the same parts ourselves
 * (same splitter, normaliser, pre-tokenizer, model) and keep track of where each token came from.
 * The version is pinned exactly in package.json; `internalsOf` checks the shape so an upgrade that
 * renames them fails loudly instead of producing wrong offsets.
 */
export interface AddedTokenInternals {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
  special: boolean;
  normalized: boolean;
}

export interface ModelInternals {
  (tokens: string[]): string[];
  tokens_to_ids: Map<string, number>;
  vocab: string[];
  unk_token_id: number | undefined;
  unk_token: string | undefined;
}

export interface TokenizerInternals {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options: { section_index: number }) => string[]) | null;
  model: ModelInternals;
  post_processor: ((tokens: string[], pair: null, addSpecialTokens: boolean) => { tokens: string[] }) | null;
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  added_tokens_map: Map<string, AddedTokenInternals>;
  remove_space: boolean | undefined;
  do_lowercase_and_remove_accent: boolean;
}

export function internalsOf(tokenizer: Tokenizer): TokenizerInternals {
  const inner = tokenizer as unknown as Partial<TokenizerInternals>;
  const ok =
    typeof inner.model === 'function' &&
    inner.model.tokens_to_ids instanceof Map &&
    Array.isArray(inner.model.vocab) &&
    typeof inner.splitter_unnormalized?.split === 'function' &&
    typeof inner.splitter_normalized?.split === 'function' &&
    inner.added_tokens_map instanceof Map &&
    'normalizer' in inner &&
    'pre_tokenizer' in inner &&
    'post_processor' in inner;
  if (!ok) {
    throw new Error(
      '@huggingface/tokenizers internals differ from version 0.2.0, which lib/text/hf-internals.ts is written for; pin that version',
    );
  }
  return inner as TokenizerInternals;
}
