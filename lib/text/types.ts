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
  /**
   * The part of the given instruction / response strings that lies at `instruction` / `response`:
   * `{start: 0, end: length}` unless the template strips surrounding whitespace (LLaMA-3 trims
   * content), so positions in `text` map back to positions in the original fields.
   */
  contentSpans: { instruction: CharSpan; response: CharSpan };
}

/** A prompt (instruction plus the template's generation prompt) for generating a response. */
export interface RenderedPrompt {
  text: string;
  /** Span of the user message (instruction) inside `text`. */
  instruction: CharSpan;
  /** The part of the given instruction string that lies at `instruction` (see RenderedChat.contentSpans). */
  contentSpans: { instruction: CharSpan };
}

/** A rendered chat tokenised, with token-level bookkeeping for losses and attributions. */
export interface TokenizedChat extends RenderedChat {
  encoding: Encoding;
  /** Token indices whose character span overlaps the response: the supervised targets. */
  responseTokens: number[];
  /** Token indices whose character span overlaps the instruction. */
  instructionTokens: number[];
  /**
   * Template tokens after the response up to and including the first special token (`<|im_end|>`,
   * `<|eot_id|>`, EOS): supervise them too so a model learns to end its turn. Empty if the template
   * closes the turn with no special token.
   */
  responseEndTokens: number[];
}
