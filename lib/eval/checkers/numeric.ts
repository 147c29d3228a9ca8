import { registerChecker } from './registry.ts';

/**
 * Numbers as models write them: optional sign, optional thousands commas (only in groups of three,
 * so a list "1,2,3" stays three numbers), optional decimals.
 */
const NUMBER = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g;

function parseNumber(token: string): number {
  return Number(token.replace(/,/g, ''));
}

/** Content of the last `\boxed{...}`, honouring nested braces; undefined when there is none. */
export function lastBoxed(text: string): string | undefined {
  const start = text.lastIndexOf('\\boxed{');
  if (start < 0) return undefined;
  let depth = 0;
  const open = start + '\\boxed'.length;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  return undefined;
}

/** A boxed answer must be a number as a whole (or a simple fraction): "\boxed{x+1}" is no number. */
function boxedValue(content: string): number | undefined {
  // LaTeX spacing, currency and percent marks do not change the number.
  const bare = content.replace(/\\[!,;: $%]|\s|[$%]/g, '').replace(/\u2212/g, '-');
  const fraction = /^(-?)\\d?frac\{(-?[\d.]+)\}\{(-?[\d.]+)\}$/.exec(bare) ?? /^()(-?[\d.]+)\/(-?[\d.]+)$/.exec(bare);
  if (fraction) {
    const value = Number(fraction[2]) / Number(fraction[3]);
    return Number.isFinite(value) ? (fraction[1] ? -value : value) : undefined;
  }
  const whole = new RegExp(`^(?:${NUMBER.source})$`);
  return whole.test(bare) ? parseNumber(bare) : undefined;
}

/**
 * The numeric answer of a text: the content of the last \boxed{} when present, otherwise the last
 * number in the text. A minus sign glued to a preceding letter or digit ("5-3", "x-2") is an
 * operator, not a sign.
 */
export function extractNumber(text: string): number | undefined {
  const boxed = lastBoxed(text);
  if (boxed !== undefined) return boxedValue(boxed);
  const normalised = text.replace(/\u2212/g, '-');
  let last: number | undefined;
  for (const match of normalised.matchAll(NUMBER)) {
    let token = match[0];
    const before = normalised[match.index - 1];
    if (token.startsWith('-') && before !== undefined && /[\p{L}\p{N}_)\]]/u.test(before)) token = token.slice(1);
    last = parseNumber(token);
  }
  return last;
}

/** Relative tolerance: decimal strings ("0.1" vs "0.10000001") should not decide correctness. */
const TOLERANCE = 1e-6;

registerChecker({
  name: 'numeric',
  description: 'the last number of the prediction (or its last \\boxed{}) equals the answer\'s number',
  check(prediction, answer) {
    const gold = extractNumber(answer);
    if (gold === undefined) throw new Error(`numeric checker: the gold answer "${answer}" contains no number`);
    const predicted = extractNumber(prediction);
    if (predicted === undefined) return false;
    return Math.abs(predicted - gold) <= TOLERANCE * Math.max(1, Math.abs(gold));
  },
});
