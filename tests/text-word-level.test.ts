import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWordLevelTokenizer, loadTokenizer, renderChat, renderPrompt, tokenizeChat, writeTokenizerFiles } from '../lib/text/index.ts';

const VOCAB = ['the', 'cat', 'sat', 'on', 'mat', '.', '?', '+', '=', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
// Ids by construction: <pad> 0, <unk> 1, <bos> 2, <eos> 3, <system> 4, <user> 5, <assistant> 6, then VOCAB from 7.
const id = (word: string) => 7 + VOCAB.indexOf(word);
const UNK = 1;
const BOS = 2;
const EOS = 3;

async function load(options: Parameters<typeof buildWordLevelTokenizer>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'leaf-wordlevel-'));
  writeTokenizerFiles(dir, buildWordLevelTokenizer(VOCAB, options));
  return loadTokenizer(dir);
}

describe('buildWordLevelTokenizer', () => {
  it('writes a tokenizer.json that loadTokenizer reads, with hand-checked ids and spans', async () => {
    const tok = await load();
    expect(tok.vocabSize).toBe(7 + VOCAB.length);
    expect([tok.bosTokenId, tok.eosTokenIds, tok.padTokenId]).toEqual([BOS, [EOS], 0]);
    const text = 'the cat  sat\ton the Mat.\n12+3=15?';
    const enc = tok.encode(text);
    expect(enc.ids).toEqual([
      BOS, id('the'), id('cat'), id('sat'), id('on'), id('the'), UNK, id('.'),
      id('1'), id('2'), id('+'), id('3'), id('='), id('1'), id('5'), id('?'),
    ]);
    const pieces = enc.offsets.map((o) => text.slice(o.start, o.end));
    expect(pieces).toEqual(['', 'the', 'cat', 'sat', 'on', 'the', 'Mat', '.', '1', '2', '+', '3', '=', '1', '5', '?']);
    expect(enc.offsets[6]).toEqual({ start: 20, end: 23 });
    expect(enc.special).toEqual([true, ...new Array(15).fill(false)]);
    expect(tok.decode(enc.ids)).toBe('<bos> the cat sat on the <unk> . 1 2 + 3 = 1 5 ?');
    expect(tok.decode(enc.ids, { skipSpecialTokens: true })).toBe('the cat sat on the . 1 2 + 3 = 1 5 ?');
  });

  it('lowercases when asked and keeps spans on the original text', async () => {
    const tok = await load({ lowercase: true });
    const text = 'THE Cat';
    const enc = tok.encode(text, { addSpecialTokens: false });
    expect(enc.ids).toEqual([id('the'), id('cat')]);
    expect(enc.offsets).toEqual([{ start: 0, end: 3 }, { start: 4, end: 7 }]);
  });

  it('keeps numbers whole when splitDigits is false', () => {
    const { tokenizerJson } = buildWordLevelTokenizer(['12', 'x'], { splitDigits: false });
    expect((tokenizerJson.model as { vocab: Record<string, number> }).vocab['12']).toBe(7);
    expect(() => buildWordLevelTokenizer(['12'])).toThrow(/vocab\[0\] "12" is not one piece/);
  });

  it('renders chats with its template and recovers spans exactly', async () => {
    const tok = await load();
    const instruction = 'what is 2+3 ?';
    const response = '2+3=5 .';
    const rendered = renderChat(tok, instruction, response);
    expect(rendered.text).toBe(`<bos><user> ${instruction}\n<assistant> ${response} <eos>\n`);
    expect(rendered.text.slice(rendered.instruction.start, rendered.instruction.end)).toBe(instruction);
    expect(rendered.text.slice(rendered.response.start, rendered.response.end)).toBe(response);
    const chat = tokenizeChat(tok, rendered);
    expect(chat.encoding.ids.filter((x) => x === BOS)).toHaveLength(1);
    expect(chat.responseTokens.map((i) => chat.encoding.ids[i])).toEqual(['2', '+', '3', '=', '5', '.'].map(id));
    expect(chat.responseEndTokens.map((i) => chat.encoding.ids[i])).toEqual([EOS]);
    expect(renderPrompt(tok, instruction).text).toBe(`<bos><user> ${instruction}\n<assistant> `);
    expect(() => renderChat(tok, 'a', 'b', { system: 'be brief' })).not.toThrow();
  });

  it('rejects vocabularies it cannot tokenise to', () => {
    expect(() => buildWordLevelTokenizer(['two words'])).toThrow(/vocab\[0\] "two words" is not one piece/);
    expect(() => buildWordLevelTokenizer(['cat', 'dog', 'cat'])).toThrow(/vocab\[2\] "cat" is a duplicate/);
    expect(() => buildWordLevelTokenizer(['<eos>'])).toThrow(/vocab\[0\] "<eos>" is not one piece/);
    expect(() => buildWordLevelTokenizer(['Cat'], { lowercase: true })).toThrow(/vocab\[0\] "Cat" is not lowercase/);
  });
});
