type Json = Record<string, unknown>;

export interface WordLevelOptions {
  /** Numbers become one token per digit (default true), so ten digit tokens cover every number. */
  splitDigits?: boolean;
  /** Lowercase text before lookup (a Lowercase normaliser); the vocabulary must then be lowercase. */
  lowercase?: boolean;
  /** Chat template; default WORD_LEVEL_CHAT_TEMPLATE. */
  chatTemplate?: string;
  /** Further special tokens, e.g. markers a custom template uses. */
  extraSpecialTokens?: string[];
}

export const WORD_LEVEL_SPECIAL_TOKENS = ['<pad>', '<unk>', '<bos>', '<eos>', '<system>', '<user>', '<assistant>'] as const;

/** Role markers around each message; the assistant's turn ends with EOS so generation can stop. */
export const WORD_LEVEL_CHAT_TEMPLATE =
  '{{ bos_token }}' +
  '{%- for message in messages -%}' +
  "{%- if message.role not in ['system', 'user', 'assistant'] -%}{{ raise_exception('unsupported role: ' + message.role) }}{%- endif -%}" +
  "{{ '<' + message.role + '> ' + message.content }}" +
  "{%- if message.role == 'assistant' -%}{{ ' ' + eos_token }}{%- endif -%}" +
  "{{ '\\n' }}" +
  '{%- endfor -%}' +
  "{%- if add_generation_prompt -%}{{ '<assistant> ' }}{%- endif -%}";

function pieceRegex(splitDigits: boolean): string {
  return `[\\p{L}\\p{M}]+|${splitDigits ? '\\p{N}' : '\\p{N}+'}|[^\\s\\p{L}\\p{M}\\p{N}]`;
}

/**
 * A word-level tokenizer.json + tokenizer_config.json (Hugging Face format) over `vocab`: text is
 * split at whitespace, then into letter runs, digits and single punctuation characters; each piece
 * is one token (unknown pieces become <unk>). Encoding adds <bos>. Ids: the special tokens first,
 * then `vocab` in order.
 */
export function buildWordLevelTokenizer(vocab: string[], options: WordLevelOptions = {}): { tokenizerJson: Json; tokenizerConfig: Json } {
  const splitDigits = options.splitDigits ?? true;
  const specials = [...WORD_LEVEL_SPECIAL_TOKENS, ...(options.extraSpecialTokens ?? [])];
  const pattern = pieceRegex(splitDigits);
  const onePiece = new RegExp(`^(?:${pattern})$`, 'u');
  const ids: Record<string, number> = {};
  specials.forEach((token) => {
    if (token in ids) throw new Error(`buildWordLevelTokenizer: special token ${JSON.stringify(token)} is listed twice`);
    ids[token] = Object.keys(ids).length;
  });
  vocab.forEach((word, i) => {
    const where = `buildWordLevelTokenizer: vocab[${i}] ${JSON.stringify(word)}`;
    if (typeof word !== 'string' || !onePiece.test(word)) {
      throw new Error(`${where} is not one piece (a letter run, ${splitDigits ? 'a digit' : 'a number'} or one punctuation character)`);
    }
    if (options.lowercase && word !== word.toLowerCase()) throw new Error(`${where} is not lowercase but the tokenizer lowercases`);
    if (word in ids) throw new Error(`${where} is a duplicate or a special token`);
    ids[word] = Object.keys(ids).length;
  });

  const tokenizerJson: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({
      id: ids[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: options.lowercase ? { type: 'Lowercase' } : null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'WhitespaceSplit' },
        { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<bos>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<bos>': { id: '<bos>', ids: [ids['<bos>']], tokens: ['<bos>'] } },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: ids, unk_token: '<unk>' },
  };
  const tokenizerConfig: Json = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    clean_up_tokenization_spaces: false,
    chat_template: options.chatTemplate ?? WORD_LEVEL_CHAT_TEMPLATE,
  };
  return { tokenizerJson, tokenizerConfig };
}
