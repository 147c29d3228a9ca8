import { join } from 'node:path';
import { buildWordLevelTokenizer, writeTokenizerFiles } from '../text/index.ts';
import { BYTE_TO_CHAR, bytesToByteLevel, utf8 } from '../text/bytes.ts';
import { learnMerges } from './bpe.ts';
import { synthNumbers, synthWords } from './vocabulary.ts';
import { DEFAULT_SYNTH_OPTIONS } from './options.ts';

/** tokenizer.json + tokenizer_config.json contents of one tokenizer (lib/text's shape). */
export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/**
 * Student: lib/text's word-level tokenizer with whole numbers as pieces, so every number 0..maxValue
 * (and so the distractor's value) is one easy-to-copy token.
 */
export function studentTokenizer(maxValue: number): TokenizerFiles {
  return buildWordLevelTokenizer([...synthWords(), ...synthNumbers(maxValue)], { splitDigits: false });
}

/** Teacher chat markup: ChatML, as Qwen models use, so the two models also differ in template. */
export const TEACHER_CHAT_TEMPLATE =
  "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}" +
  '{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}';

/**
 * Qwen2's pre-tokenizer split with one change: a digit may carry the space before it, so " 37"
 * is "Ġ3" "7" (Qwen2 gives "Ġ" "3" "7"), which keeps sequences short.
 */
export const TEACHER_SPLIT_PATTERN = String.raw`[^\r\n\p{L}\p{N}]?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/**
 * Teacher: byte-level BPE like Qwen2/LLaMA-3 (digits split one by one, 256 byte symbols, merges
 * learned so each generator word is one token, specials last). Different model type, vocabulary,
 * ids and chat template from the student: the cross-tokenizer path is exercised for real.
 */
export function teacherTokenizer(): TokenizerFiles {
  const byteLevel = (text: string) => bytesToByteLevel(utf8.encode(text));
  const words = [...synthWords(), 'user', 'assistant'];
  const pieces = [
    ...words.flatMap((word) => [byteLevel(word), byteLevel(` ${word}`)]),
    ...synthNumbers(9).map((digit) => byteLevel(` ${digit}`)),
  ];
  const merges = learnMerges(pieces);
  const vocab: Record<string, number> = {};
  for (const token of [...BYTE_TO_CHAR, ...merges.map(([a, b]) => a + b)]) {
    if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
  }
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((content, i) => ({ id: Object.keys(vocab).length + i, content }));
  const addedToken = (t: { id: number; content: string }) => ({
    ...t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specials.map(addedToken),
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: TEACHER_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: merges.map(([a, b]) => [a, b]),
      },
    },
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: null,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      unk_token: null,
      // Decoding must give back exactly the answer text; HF's clean-up would glue punctuation.
      clean_up_tokenization_spaces: false,
      added_tokens_decoder: Object.fromEntries(specials.map((t) => [String(t.id), addedToken(t)])),
      chat_template: TEACHER_CHAT_TEMPLATE,
    },
  };
}

/**
 * Writes `dir/student/` and `dir/teacher/` (tokenizer.json + tokenizer_config.json each).
 * `maxValue` must match the corpus's: the student has one token per number.
 */
export function writeSynthTokenizers(dir: string, options: { maxValue?: number } = {}): { student: string; teacher: string } {
  const maxValue = options.maxValue ?? DEFAULT_SYNTH_OPTIONS.maxValue;
  if (!Number.isInteger(maxValue) || maxValue < 9) throw new Error(`writeSynthTokenizers: maxValue must be an integer >= 9, got ${maxValue}`);
  const student = join(dir, 'student');
  const teacher = join(dir, 'teacher');
  writeTokenizerFiles(student, studentTokenizer(maxValue));
  writeTokenizerFiles(teacher, teacherTokenizer());
  return { student, teacher };
}
