/** Character span [start, end) in UTF-16 code units of a JS string, so `text.slice(start, end)` is the span. */
export interface CharSpan {
  start: number;
  end: number;
}

export interface Encoding {
  ids: number[];
  /** One span per id into the encoded text; special tokens that cover no text get an empty span at their position. */
  offsets: CharSpan[];
  /** True for tokens added by the tokenizer or template markup that are special tokens. */
  special: boolean[];
}

export interface TextTokenizer {
  /** Path or label, recorded in manifests. */
  readonly source: string;
  readonly vocabSize: number;
  encode(text: string, options?: { addSpecialTokens?: boolean }): Encoding;
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The vocabulary string of one id (for reports and cross-vocabulary maps). */
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  readonly eosTokenIds: number[];
  readonly padTokenId: number | undefined;
  readonly bosTokenId: number | undefined;
  /** Jinja chat template from tokenizer_config.json, if any. */
  readonly chatTemplate: string | undefined;
}

/** A conversation rendered with a model's chat template, with where each part landed. */
export interface RenderedChat {
  text: string;
  /** Span of the user message (instruction) inside `text`. */
  instruction: CharSpan;
  /** Span of the assistant message (response) inside `text`. */
  response: CharSpan;
}

/** A rendered chat tokenised, with token-level bookkeeping for losses and attributions. */
export interface TokenizedChat extends RenderedChat {
  encoding: Encoding;
  /** Token indices whose character span lies inside the response: the supervised targets. */
  responseTokens: number[];
  /** Token indices whose character span overlaps the instruction. */
  instructionTokens: number[];
}
