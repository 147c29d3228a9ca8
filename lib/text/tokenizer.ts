import { Tokenizer } from '@huggingface/tokenizers';
import { alignTokens, surfaceRulesOf, type SurfaceRules } from './align.ts';
import { internalsOf, type TokenizerInternals } from './hf-internals.ts';
import { buildSpanMap, identitySpanMap } from './normalization-map.ts';
import type { CharSpan, Encoding, TextTokenizer } from './types.ts';

type Json = Record<string, unknown>;

/** A token string with the span of the input it was produced from. */
interface SpannedToken {
  token: string;
  span: CharSpan;
}

/** A stretch of the input, possibly trimmed, at [start, end). */
interface Piece {
  text: string;
  start: number;
  end: number;
}

const SENTINEL = '\u0000leaf-sequence\u0000';

/** Special-token entries in tokenizer_config.json are a string, an AddedToken object, or null. */
function specialTokenString(config: Json, key: string): string | undefined {
  const value = config[key];
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}

/** `chat_template` is a string or, in newer configs, a list of named templates. */
function chatTemplateOf(config: Json, source: string): string | undefined {
  const value = config.chat_template;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => t && typeof t === 'object' && (t as Json).name === 'default');
    if (named && typeof (named as Json).template === 'string') return (named as Json).template as string;
    throw new Error(`${source}: chat_template is a list without a template named "default"`);
  }
  throw new Error(`${source}: chat_template must be a string or a list of {name, template}, got ${typeof value}`);
}

/** Cuts `piece` around added tokens the way the library does, keeping positions, and applies their lstrip/rstrip. */
function splitAroundAddedTokens(piece: Piece, splitter: { split(text: string): string[] }, added: TokenizerInternals['added_tokens_map']): Piece[] {
  const parts: Piece[] = [];
  let pos = piece.start;
  for (const text of splitter.split(piece.text)) {
    parts.push({ text, start: pos, end: pos + text.length });
    pos += text.length;
  }
  for (let i = 0; i < parts.length; i++) {
    const token = added.get(parts[i].text);
    if (!token) continue;
    if (token.lstrip && i > 0) {
      const prev = parts[i - 1];
      prev.text = prev.text.trimEnd();
      prev.end = prev.start + prev.text.length;
    }
    if (token.rstrip && i < parts.length - 1) {
      const next = parts[i + 1];
      next.text = next.text.trimStart();
      next.start = next.end - next.text.length;
    }
  }
  return parts;
}

export interface TokenizerFiles {
  tokenizerJson: Json;
  tokenizerConfig: Json;
  /** ids from generation_config.json's eos_token_id (end-of-turn tokens of chat models). */
  generationEosIds?: number[];
}

/** A tokenizer.json tokenizer whose encodings carry exact character spans. */
export class HfTextTokenizer implements TextTokenizer {
  readonly source: string;
  readonly vocabSize: number;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly chatTemplate: string | undefined;
  private readonly hf: Tokenizer;
  private readonly inner: TokenizerInternals;
  private readonly rules: SurfaceRules;
  private readonly prefixTokens: string[];
  private readonly suffixTokens: string[];

  constructor(files: TokenizerFiles, source: string) {
    this.source = source;
    const { tokenizerJson, tokenizerConfig } = files;
    if (!tokenizerJson || typeof tokenizerJson !== 'object' || !tokenizerJson.model) {
      throw new Error(`${source}: tokenizer.json has no "model" section`);
    }
    try {
      // The library requires these keys to be present, even as null.
      const completed = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson };
      this.hf = new Tokenizer(completed, tokenizerConfig);
    } catch (error) {
      throw new Error(`${source}: cannot build tokenizer from tokenizer.json: ${(error as Error).message}`);
    }
    this.inner = internalsOf(this.hf);
    this.rules = surfaceRulesOf(tokenizerJson);
    this.vocabSize = this.inner.model.vocab.length;
    [this.prefixTokens, this.suffixTokens] = this.specialsAroundSequence();

    const idOf = (key: string) => {
      const token = specialTokenString(tokenizerConfig, key);
      return token === undefined ? undefined : this.tokenToId(token);
    };
    this.bosTokenId = idOf('bos_token');
    this.padTokenId = idOf('pad_token');
    const eos = idOf('eos_token');
    this.eosTokenIds = [...new Set([...(eos === undefined ? [] : [eos]), ...(files.generationEosIds ?? [])])];
    this.chatTemplate = chatTemplateOf(tokenizerConfig, source);
  }

  /** Where the post-processor puts its special tokens (BOS, CLS/SEP...) around a sequence. */
  private specialsAroundSequence(): [string[], string[]] {
    const post = this.inner.post_processor;
    if (!post) return [[], []];
    const withSpecials = post([SENTINEL], null, true).tokens;
    const without = post([SENTINEL], null, false).tokens;
    const at = withSpecials.indexOf(SENTINEL);
    if (at < 0 || withSpecials.lastIndexOf(SENTINEL) !== at || without.length !== 1 || without[0] !== SENTINEL) {
      throw new Error(`${this.source}: unsupported post_processor (it does not keep the sequence as one block)`);
    }
    return [withSpecials.slice(0, at), withSpecials.slice(at + 1)];
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): Encoding {
    const tokens = this.tokensWithSpans(text);
    if (options.addSpecialTokens ?? true) {
      tokens.unshift(...this.prefixTokens.map((token) => ({ token, span: { start: 0, end: 0 } })));
      tokens.push(...this.suffixTokens.map((token) => ({ token, span: { start: text.length, end: text.length } })));
    }
    const ids = tokens.map(({ token }) => this.idOfToken(token));
    const added = this.inner.added_tokens_map;
    return {
      ids,
      offsets: tokens.map((t) => t.span),
      special: tokens.map(({ token }) => added.get(token)?.special ?? false),
    };
  }

  private idOfToken(token: string): number {
    const id = this.inner.added_tokens_map.get(token)?.id ?? this.inner.model.tokens_to_ids.get(token) ?? this.inner.model.unk_token_id;
    if (id === undefined) {
      throw new Error(`${this.source}: token ${JSON.stringify(token)} is not in the vocabulary and the tokenizer has no unk_token`);
    }
    return id;
  }

  /** The library's `encode_text`, step for step, with the input span of every token. */
  private tokensWithSpans(text: string): SpannedToken[] {
    const { inner } = this;
    const out: SpannedToken[] = [];
    const sections = splitAroundAddedTokens({ text, start: 0, end: text.length }, inner.splitter_unnormalized, inner.added_tokens_map);
    sections.forEach((section, sectionIndex) => {
      if (section.text.length === 0) return;
      if (inner.added_tokens_map.has(section.text)) {
        out.push({ token: section.text, span: { start: section.start, end: section.end } });
        return;
      }
      const normalized = this.normalize(section.text);
      if (normalized.length === 0) return;
      const toSection = buildSpanMap(section.text, normalized, (s) => this.normalize(s), this.source);
      const subsections = splitAroundAddedTokens({ text: normalized, start: 0, end: normalized.length }, inner.splitter_normalized, inner.added_tokens_map);
      for (const sub of subsections) {
        if (sub.text.length === 0) continue;
        const toInput = (span: CharSpan): CharSpan => {
          const inSection = toSection(sub.start + span.start, sub.start + span.end);
          return { start: section.start + inSection.start, end: section.start + inSection.end };
        };
        if (inner.added_tokens_map.has(sub.text)) {
          out.push({ token: sub.text, span: toInput({ start: 0, end: sub.text.length }) });
          continue;
        }
        const preTokens = inner.pre_tokenizer ? inner.pre_tokenizer(sub.text, { section_index: sectionIndex }) : [sub.text];
        const tokens = inner.model(preTokens);
        const spans = alignTokens(sub.text, tokens, this.rules, (t) => this.isUnknown(t), () => `tokenizer ${this.source}`);
        tokens.forEach((token, i) => out.push({ token, span: toInput(spans[i]) }));
      }
    });
    return out;
  }

  private isUnknown(token: string): boolean {
    const { model } = this.inner;
    return !model.tokens_to_ids.has(token) || (model.unk_token !== undefined && token === model.unk_token);
  }

  private normalize(text: string): string {
    const { inner } = this;
    let s = text;
    if (inner.remove_space === true) s = s.trim().split(/\s+/).join(' ');
    if (inner.do_lowercase_and_remove_accent) s = s.toLowerCase().replace(/\p{M}/gu, '');
    if (inner.normalizer) s = inner.normalizer(s);
    return s;
  }

  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.hf.decode(ids, { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** The library's own ids for `text` (no offsets), for cross-checks. */
  referenceIds(text: string, addSpecialTokens: boolean): number[] {
    return this.hf.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }
}

/** A tokenizer from already-parsed tokenizer.json and tokenizer_config.json contents. */
export function tokenizerFromJson(tokenizerJson: Json, tokenizerConfig: Json = {}, source = 'in-memory tokenizer'): HfTextTokenizer {
  return new HfTextTokenizer({ tokenizerJson, tokenizerConfig }, source);
}
