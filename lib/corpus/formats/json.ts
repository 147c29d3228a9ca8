import { bomLength, firstSignificantChar, strictUtf8 } from './text.ts';
import type { RawRecord, TableFormat } from './types.ts';

const OPENERS = new Set(['{', '[']);
const CLOSERS = new Set(['}', ']']);

/**
 * The elements of a top-level JSON array, each parsed on its own: a broken element becomes a
 * record error at its line (skippable like a bad JSONL line) instead of failing the whole file.
 * Only a broken array structure (not closed, text after it) fails the file.
 */
function* arrayElements(text: string): Generator<RawRecord> {
  let position = 0;
  let line = 1;
  const skipWhitespace = () => {
    while (position < text.length && /\s/.test(text[position])) {
      if (text[position] === '\n') line++;
      position++;
    }
  };
  skipWhitespace();
  if (text[position] !== '[') throw new Error('expected a JSON array of records (or JSON Lines, one record per line)');
  position++;
  let index = 0;
  for (;;) {
    skipWhitespace();
    if (position >= text.length) throw new Error(`the JSON array is not closed (the file ends at line ${line})`);
    if (text[position] === ']' && index === 0) break;
    const start = position;
    const startLine = line;
    let depth = 0;
    let inString = false;
    for (; position < text.length; position++) {
      const char = text[position];
      if (char === '\n') line++;
      if (inString) {
        if (char === '\\') position++;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (OPENERS.has(char)) depth++;
      else if (CLOSERS.has(char) && depth > 0) depth--;
      else if (depth === 0 && (char === ',' || char === ']')) break;
    }
    if (position >= text.length) throw new Error(`the JSON array is not closed (the file ends at line ${line})`);
    const source = text.slice(start, position);
    try {
      yield { index, line: startLine, value: JSON.parse(source) };
    } catch (error) {
      yield { index, line: startLine, error: `invalid JSON (${(error as Error).message})` };
    }
    index++;
    if (text[position++] === ']') break;
  }
  skipWhitespace();
  if (position < text.length) throw new Error(`unexpected text after the JSON array at line ${line}`);
}

export const jsonFormat: TableFormat = {
  name: 'json',
  extensions: ['.json'],
  sniff: (head) => firstSignificantChar(head) === '[',
  async read(bytes) {
    const text = strictUtf8.decode(bytes.subarray(bomLength(bytes)));
    return { records: arrayElements(text) };
  },
};
