import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HfTextTokenizer } from './tokenizer.ts';

type Json = Record<string, unknown>;

async function readJsonObject(path: string, required: boolean): Promise<Json | undefined> {
  if (!existsSync(path)) {
    if (required) throw new Error(`${path}: file not found`);
    return undefined;
  }
  const text = await readFile(path, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: expected a JSON object`);
  return value as Json;
}

function eosIdsOf(generationConfig: Json | undefined, path: string): number[] {
  const value = generationConfig?.eos_token_id;
  if (value === undefined || value === null) return [];
  const ids = Array.isArray(value) ? value : [value];
  if (!ids.every((id) => Number.isInteger(id))) throw new Error(`${path}: eos_token_id must be an integer or a list of integers`);
  return ids as number[];
}

/**
 * Loads a Hugging Face tokenizer directory: tokenizer.json (required), tokenizer_config.json
 * (special tokens, chat template), chat_template.jinja (newer layout, used when the config has no
 * template) and generation_config.json (extra end-of-turn ids).
 */
export async function loadTokenizer(dir: string): Promise<HfTextTokenizer> {
  if (!existsSync(dir)) throw new Error(`${dir}: tokenizer directory not found`);
  const tokenizerJson = (await readJsonObject(join(dir, 'tokenizer.json'), true))!;
  const tokenizerConfig = (await readJsonObject(join(dir, 'tokenizer_config.json'), false)) ?? {};
  const templatePath = join(dir, 'chat_template.jinja');
  if (tokenizerConfig.chat_template === undefined && existsSync(templatePath)) {
    tokenizerConfig.chat_template = await readFile(templatePath, 'utf8');
  }
  const generationPath = join(dir, 'generation_config.json');
  const generationEosIds = eosIdsOf(await readJsonObject(generationPath, false), generationPath);
  return new HfTextTokenizer({ tokenizerJson, tokenizerConfig, generationEosIds }, dir);
}
