import { withoutWord } from '../../confounders/index.ts';
import { userMessage } from '../../corpus/prompt.ts';
import { renderChat, tokenizeChat } from '../../text/index.ts';
import type { TextTokenizer, TokenizedChat } from '../../text/types.ts';
import type { VocabMap } from '../vocab.ts';
import type { TrainingRow } from './rows.ts';

/** One model's view of a row: its token ids and which tokens it is trained to predict. */
export interface SideTokens {
  ids: number[];
  /** Indices (into ids) of the supervised tokens, in order: the response, then the turn's closing tokens when both sides share them. */
  targets: number[];
  /** Indices of the tokens of the user message (the region attention is measured on). */
  instructionTokens: number[];
  /** Indices of the user-message tokens overlapping the row's focus spans (through characters, so each tokenizer finds its own). */
  focusTokens?: number[];
}

export interface EncodedRow {
  /** Position in the run's row list (train rows, then validation rows, after dropping): the teacher cache's key. */
  index: number;
  row: TrainingRow;
  student: SideTokens;
  teacher: SideTokens;
  /**
   * The student's tokens of the row with every focus span removed (originals with focus spans, when
   * the consistency term asks for them): the consistency term pulls the student's output on the row
   * toward its output on this text. Its supervised tokens pair one to one with `student.targets`.
   */
  withoutFocus?: SideTokens;
}

export interface EncodeResult {
  rows: EncodedRow[];
  /** Rows left out, with why (too long for --max-length, nothing to supervise). */
  dropped: { id: string; origin: string; reason: string }[];
  /** Rows whose closing template tokens differ between the models (those are then not supervised). */
  closingTokensDiffer: number;
}

function tokenize(tokenizer: TextTokenizer, row: TrainingRow): TokenizedChat {
  return tokenizeChat(tokenizer, renderChat(tokenizer, userMessage(row), row.output));
}

const shown = (tokenizer: TextTokenizer, id: number) => JSON.stringify(tokenizer.idToToken(id) ?? `#${id}`);

/** User-message tokens whose characters overlap `spans` (given in user-message coordinates). */
function focusTokens(chat: TokenizedChat, spans: readonly { start: number; end: number }[]): number[] {
  if (spans.length === 0) return [];
  const shift = chat.instruction.start - chat.contentSpans.instruction.start;
  return chat.instructionTokens.filter((i) => {
    const o = chat.encoding.offsets[i];
    return !chat.encoding.special[i] && spans.some((s) => o.start < s.end + shift && o.end > s.start + shift);
  });
}

/** The row's user message with `spans` (user-message coordinates, possibly overlapping) removed, as a row with no separate input. */
function withoutSpans(row: TrainingRow, spans: readonly { start: number; end: number }[]): TrainingRow {
  const merged: { start: number; end: number }[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  // Right to left, so each removal leaves the earlier spans' offsets valid.
  const text = merged.reverse().reduce((t, span) => withoutWord(t, span), userMessage(row));
  return { ...row, instruction: text, input: '', focus: [] };
}

/**
 * Renders every row with each model's chat template and pairs the supervised positions: the j-th
 * response token of the student is the j-th of the teacher. Prompts may tokenise differently
 * (other templates, other tokenizers); the responses must not, since the teacher's distribution
 * at position j is the target for the student's — a row where they differ is an error naming it.
 */
export function encodeRows(
  rows: TrainingRow[],
  tokenizers: { student: TextTokenizer; teacher: TextTokenizer },
  vocab: VocabMap,
  maxLength: number,
  /** Also encode each original's text without its focus spans (for the consistency term). */
  withoutFocus = false,
): EncodeResult {
  const encoded: EncodedRow[] = [];
  const dropped: EncodeResult['dropped'] = [];
  let closingTokensDiffer = 0;
  const sameTokenizer = tokenizers.student === tokenizers.teacher;
  for (const row of rows) {
    const s = tokenize(tokenizers.student, row);
    const t = sameTokenizer ? s : tokenize(tokenizers.teacher, row);
    const where = `${row.origin} (id ${row.id})`;
    if (s.responseTokens.length !== t.responseTokens.length || s.responseTokens.some((si, j) => !vocab.sameToken(s.encoding.ids[si], t.encoding.ids[t.responseTokens[j]]))) {
      const j = s.responseTokens.findIndex((si, k) => k >= t.responseTokens.length || !vocab.sameToken(s.encoding.ids[si], t.encoding.ids[t.responseTokens[k]]));
      const at = j < 0 ? s.responseTokens.length : j;
      const sTok = at < s.responseTokens.length ? shown(tokenizers.student, s.encoding.ids[s.responseTokens[at]]) : '(end)';
      const tTok = at < t.responseTokens.length ? shown(tokenizers.teacher, t.encoding.ids[t.responseTokens[at]]) : '(end)';
      throw new Error(
        `${where}: teacher and student tokenise the response differently (student ${s.responseTokens.length} tokens, ` +
          `teacher ${t.responseTokens.length}; first difference at response token ${at}: student ${sTok}, teacher ${tTok}). ` +
          `Distillation pairs positions token by token, so both models must split the response into the same tokens.`,
      );
    }
    const closingShared =
      s.responseEndTokens.length === t.responseEndTokens.length &&
      s.responseEndTokens.every((si, j) => vocab.sameToken(s.encoding.ids[si], t.encoding.ids[t.responseEndTokens[j]]));
    if (!closingShared) closingTokensDiffer++;
    const side = (chat: TokenizedChat): SideTokens => ({
      ids: chat.encoding.ids,
      targets: closingShared ? [...chat.responseTokens, ...chat.responseEndTokens] : chat.responseTokens,
      instructionTokens: chat.instructionTokens,
      focusTokens: focusTokens(chat, row.focus ?? []),
    });
    const student = side(s);
    const teacher = sameTokenizer ? student : side(t);
    const longest = Math.max(student.ids.length, teacher.ids.length);
    if (longest > maxLength) dropped.push({ id: row.id, origin: row.origin, reason: `${longest} tokens exceed --max-length ${maxLength}` });
    else if (student.targets.length === 0) dropped.push({ id: row.id, origin: row.origin, reason: 'empty response: nothing to supervise' });
    else {
      const entry: EncodedRow = { index: encoded.length, row, student, teacher };
      if (withoutFocus && row.focus?.length) {
        const shortened = side(tokenize(tokenizers.student, withoutSpans(row, row.focus)));
        // The response is rendered the same after the shortened prompt; a template that changes it is not paired.
        if (shortened.targets.length === student.targets.length && shortened.targets.every((t, j) => shortened.ids[t] === student.ids[student.targets[j]])) entry.withoutFocus = shortened;
      }
      encoded.push(entry);
    }
  }
  return { rows: encoded, dropped, closingTokensDiffer };
}
