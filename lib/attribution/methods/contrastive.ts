import * as tf from '@tensorflow/tfjs-core';
import { minMaxNormalize } from '../../confounders/normalize.ts';
import { cachedLosses, gradientScores, losses, variantLosses } from '../loss.ts';
import type { KVCache } from '../../models/types.ts';
import { registerAttributionMethod } from '../registry.ts';
import type { LossInput, OcclusionUnit, PairInput, ScoringInput, TokenScores } from '../types.ts';

/** Round 1 occludes up to CONTRASTIVE_MAX_PHRASES phrases and this many words: those the student's gradient ranks highest. */
export const CONTRASTIVE_EXTRA_UNITS = 1;
/** Phrases occluded in round 1 at most (by gradient rank), so long inputs cost a bounded number of passes. */
export const CONTRASTIVE_MAX_PHRASES = 2;
/** Round 2 removes this many of round 1's units together (those the teacher needs least), to see through redundant copies. */
export const CONTRASTIVE_REDUNDANT_SET = 2;

/** A repeated word is occluded jointly only when its copies lie in 2 to this many phrases (one variant per copy). */
export const CONTRASTIVE_MAX_COPIES = 4;

const l2 = (grad: tf.Tensor3D) => tf.sqrt(tf.sum(tf.square(grad), 2)) as tf.Tensor2D;

type Role = 'teacher' | 'student';

/** Units of sample b removed together. */
interface Removal {
  b: number;
  units: number[];
}

/** The same units of the same sample, in any order, are the same removal. */
const removalKey = (r: Removal) => `${r.b}:${[...r.units].sort((x, y) => x - y).join(',')}`;

/** `measure` applied to the removals marked useful only; NaN for the others (never read). */
function lazily(removals: Removal[], useful: boolean[], measure: (removals: Removal[]) => number[]): number[] {
  const measured = measure(removals.filter((_, k) => useful[k]));
  let next = 0;
  return useful.map((u) => (u ? measured[next++] : NaN));
}

/** One unit's measured effect: loss change of each model. */
interface Effect {
  teacher: number;
  student: number;
}
/**
 * Either direction counts: a distractor showing a wrong value makes the student's loss fall when it
 * is removed, one showing the answer makes it rise.
 */
const contrast = (e: Effect) => Math.abs(e.student) - Math.abs(e.teacher);

/** The largest normalised gradient among a unit's tokens (0 for a unit without tokens). */
function unitGradient(unit: OcclusionUnit, normalised: Map<number, number>): number {
  return unit.tokens.reduce((best, t) => Math.max(best, normalised.get(t) ?? 0), 0);
}

function normalisedOnScored(input: ScoringInput, scores: Float32Array): Map<number, number> {
  const values = minMaxNormalize(input.scored.map((t) => scores[t]));
  return new Map(input.scored.map((t, k) => [t, values[k]]));
}

const overlaps = (a: OcclusionUnit, b: OcclusionUnit) => a.tokens.some((t) => b.tokens.includes(t));
const contains = (outer: OcclusionUnit, inner: OcclusionUnit) => inner.tokens.every((t) => outer.tokens.includes(t));

/**
 * How much the teacher needs unit u: the largest |Δℓ_T| of removing u alone or, for a word, the
 * phrase holding it (`single`: the round-1 single removals). Removing a word often leaves text
 * that reads wrong; a value inside a clause the teacher needs is read with that clause.
 */
function teacherNeed(units: OcclusionUnit[], single: Map<number, Effect>, u: number): number {
  let need = 0;
  for (const [v, e] of single)
    if (v === u || (units[u].kind === 'word' && units[v].kind === 'phrase' && contains(units[v], units[u]))) need = Math.max(need, Math.abs(e.teacher));
  return need;
}

/**
 * Units to occlude in round 1, by the student's normalised gradient ĝ_S on the unit's tokens: up to
 * CONTRASTIVE_MAX_PHRASES phrases and CONTRASTIVE_EXTRA_UNITS words. The teacher's gradient is not
 * taken: every candidate is measured in the teacher anyway, and its backward pass (the larger
 * model's) cost more than the reordering of candidates was worth on the planted task families.
 */
function candidates(pair: PairInput, gS: Map<number, number>): number[] {
  const units = pair.student.occlusionUnits!;
  const rank = (kind: OcclusionUnit['kind']) =>
    units
      .map((u, i) => ({ i, kind: u.kind, priority: unitGradient(u, gS) }))
      .filter((u) => u.kind === kind)
      .sort((a, b) => b.priority - a.priority || a.i - b.i)
      .map((u) => u.i);
  return [...rank('phrase').slice(0, CONTRASTIVE_MAX_PHRASES), ...rank('word').slice(0, CONTRASTIVE_EXTRA_UNITS)];
}

/**
 * The units holding the copies of one repeated word: the word (containing a letter or digit) that
 * occurs at several places and whose copies the student's gradient ranks highest; each copy is
 * represented by the phrase that contains it (the word itself where no phrase does). Empty when no
 * word repeats across 2 to CONTRASTIVE_MAX_COPIES units.
 */
function copyHolders(pair: PairInput, gS: Map<number, number>): number[] {
  const units = pair.student.occlusionUnits!;
  const copies = new Map<string, number[]>();
  units.forEach((u, i) => {
    if (u.kind === 'word' && u.text && /[\p{L}\p{N}]/u.test(u.text)) copies.set(u.text, [...(copies.get(u.text) ?? []), i]);
  });
  const holder = (w: number) => {
    const phrase = units.findIndex((p) => p.kind === 'phrase' && units[w].tokens.every((t) => p.tokens.includes(t)));
    return phrase >= 0 ? phrase : w;
  };
  const groups = [...copies.values()]
    .filter((ws) => ws.length > 1)
    .map((ws) => ({ holders: [...new Set(ws.map(holder))], priority: Math.max(...ws.map((w) => unitGradient(units[w], gS))) }))
    .filter((g) => g.holders.length > 1 && g.holders.length <= CONTRASTIVE_MAX_COPIES && g.holders.every((h, k) => g.holders.every((o, j) => j === k || !overlaps(units[h], units[o]))))
    .sort((a, b) => b.priority - a.priority);
  return groups[0]?.holders ?? [];
}

/**
 * Confounder detection by the definition: a confounder is text whose removal changes the
 * student's loss and not the teacher's. Per sample, per model, with ℓ the mean response NLL:
 *
 *  0. one gradient pass of the student (grad-l2) ranks units by ĝ_S;
 *  1. each candidate unit u (phrases — clauses, bracketed groups — and the top words) is removed,
 *     the sample re-rendered and re-scored in BOTH models: c(u) = |Δℓ_S(u)| − |Δℓ_T(u)|, where
 *     Δℓ(u) = ℓ(x without u) − ℓ(x);
 *     copies: a student may read a value from any two of its copies, so that removing any one
 *     changes nothing. For the repeated word whose copies ĝ_S ranks highest (found in 2 to
 *     CONTRASTIVE_MAX_COPIES phrases), the sample is re-scored with the phrases holding the copies
 *     all removed but one, each kept in turn; a removal's effect counts for every phrase it removed
 *     (where it exceeds that phrase's own c). Removing every copy is not measured: it often takes
 *     the text the teacher reads the value from too (a fact stating it), which hides the contrast;
 *  2. redundancy: several copies of a shortcut each look harmless alone (the student copies from
 *     the others). The CONTRASTIVE_REDUNDANT_SET disjoint units S with the smallest |Δℓ_T(u)| (the
 *     text the teacher needs least) are removed together and each is put back in turn. With
 *     d(u) = Δℓ(S) − Δℓ(S ∖ u), u's effect once the other copies are gone,
 *     c'(u) = |d_S(u)| − |d_T(u)| − |Δℓ_S(S ∖ u)|: u stands in for the other copies only as far as
 *     the student, u kept, does not miss S ∖ u. (Without that term, whatever S ∖ u meant to the
 *     student was credited to u, measured in text already broken by removing S ∖ u: a fact value
 *     or the question outranked the planted copies.) A unit scores max(c(u), c'(u)).
 *
 * Teacher need: a unit credited through a joint removal, and a word, keeps as its teacher side at
 * least the |Δℓ_T| of removing it alone or (a word) the phrase holding it (`teacherNeed`), so text
 * the teacher needs never ranks as a confounder because another removal spared the teacher.
 *
 * Each token gets the absolute loss changes (teacher, student) of the highest-contrast measured
 * unit covering it (the teacher's at least the unit's teacher need; a put-back's carries the
 * |Δℓ_S(S ∖ u)| term, so that |T| − |S| = −c' holds); a token none covers takes (teacher) the largest −c measured on the sample, so
 * it ranks with the least student-dependent text, never above a measured unit; analysis compares them raw (Δ = |Δℓ_T| − |Δℓ_S| = −c),
 * so low Δ = the student depends on it and the teacher does not.
 *
 * Cost per sample: the student's gradient (1 forward + backward; its forward is also the student's
 * unmodified one unless its layers are recomputed), the teacher's forward of the sample, and in
 * each model at most MAX_PHRASES + EXTRA_UNITS + MAX_COPIES + 1 + REDUNDANT_SET (= 10) shortened
 * samples (two copies outside the candidates add two single removals instead of MAX_COPIES).
 * A removal is measured once per model where rounds repeat it: a pair's put-back is the other
 * unit's single removal, so a redundancy pair of two candidates costs 1 shortened sample, not 3.
 * A shortened sample is computed from its first token that differs from the sample: the keys and
 * values before it are the sample's own forward's. The teacher skips a joint removal or put-back
 * whose student side alone bounds the contrast below what its units already have (the bounds are
 * given where they are used), so the scores are those of measuring everything.
 */
registerAttributionMethod({
  name: 'contrastive',
  description: 'gradient candidates verified by occluding words and phrases in both models; score = student loss change − teacher loss change (the default)',
  occlusionUnits: ['word', 'phrase'],
  comparison: 'raw',
  keepsKeyValues: true,
  /** One model alone cannot be contrasted: the absolute loss change of removing each unit (no candidate choice). */
  score(model, inputs, { padId, batchSize }) {
    return inputs.map((input) => {
      const units = input.occlusionUnits!;
      const values = losses(model, [input, ...units.map((u) => u.variant)], padId, batchSize);
      const effects = units.map((_, k) => Math.abs(values[k + 1] - values[0]));
      return tokenScores(input, units, effects, effects, values[0]);
    });
  },
  scorePair(teacher, student, inputs, { teacherPadId, studentPadId, batchSize }) {
    for (const [b, pair] of inputs.entries())
      if (!pair.teacher.occlusionUnits || !pair.student.occlusionUnits || !pair.teacher.without || !pair.student.without)
        throw new Error(`contrastive: batch item ${b} was prepared without occlusion units`);
    // The student's gradient pass is also its unmodified forward, keys and values kept, unless its
    // layers are recomputed (a recomputed layer keeps none): then that forward is run on its own.
    const studentCache = student.recomputeLayers ? undefined : student.createCache();
    let studentGrad: { scores: Float32Array; loss: number }[];
    try {
      studentGrad = gradientScores(student, inputs.map((p) => p.student), studentPadId, l2, studentCache);
    } catch (error) {
      studentCache?.dispose();
      throw error;
    }
    const sides = { teacher: { lm: teacher, padId: teacherPadId }, student: { lm: student, padId: studentPadId } };
    const held: Partial<Record<Role, { losses: Float32Array; cache: KVCache }>> = studentCache ? { student: { losses: Float32Array.from(studentGrad, (g) => g.loss), cache: studentCache } } : {};
    try {
      // Unmodified losses by the same forward path as the variants', so Δℓ has no numerical offset.
      // Their keys and values are kept: each variant is computed from where it departs from its sample.
      for (const role of ['teacher', 'student'] as const) held[role] ??= cachedLosses(sides[role].lm, inputs.map((p) => p[role]), sides[role].padId);
      const base = { teacher: held.teacher!.losses, student: held.student!.losses };
      // A removal is measured once per model: the rounds overlap (a put-back from a pair is the
      // other unit's single removal; a redundancy set may be a joint removal of copies).
      const measured: Record<Role, Map<string, number>> = { teacher: new Map(), student: new Map() };
      const changes = (role: Role, removals: Removal[]) => {
        const fresh = [...new Map(removals.filter((r) => !measured[role].has(removalKey(r))).map((r) => [removalKey(r), r])).values()];
        const sources = inputs.map((p) => p[role]);
        const variants = fresh.map((r) => ({ of: r.b, input: r.units.length === 1 ? sources[r.b].occlusionUnits![r.units[0]].variant : sources[r.b].without!(r.units) }));
        const after = variantLosses(sides[role].lm, held[role]!.cache, sources, variants, sides[role].padId, batchSize);
        fresh.forEach((r, k) => measured[role].set(removalKey(r), after[k] - base[role][r.b]));
        return removals.map((r) => measured[role].get(removalKey(r))!);
      };
      return contrastiveScores(inputs, studentGrad, base, changes);
    } finally {
      held.teacher?.cache.dispose();
      held.student?.cache.dispose();
    }
  },
});

/** Rounds 1 and 2 of the detector (see above) on one batch; `changes` measures removals in one model. */
function contrastiveScores(
  inputs: PairInput[],
  studentGrad: { scores: Float32Array }[],
  base: Record<Role, Float32Array>,
  changes: (role: Role, removals: Removal[]) => number[],
): { teacher: TokenScores[]; student: TokenScores[] } {
  // Round 1: candidate units, one removal each, and the copies of a repeated word all but one
  // removed (each copy kept in turn).
  const gS = inputs.map((pair, b) => normalisedOnScored(pair.student, studentGrad[b].scores));
  const chosen = inputs.map((pair, b) => candidates(pair, gS[b]));
  const joint = inputs.map((pair, b) => {
    const holders = copyHolders(pair, gS[b]);
    const sets = holders.map((keep) => holders.filter((h) => h !== keep));
    // All but one of two copies is one unit: a single removal.
    for (const [u] of sets.filter((set) => set.length === 1)) if (!chosen[b].includes(u)) chosen[b].push(u);
    return sets.filter((set) => set.length > 1);
  });
  const singles = chosen.flatMap((units, b) => units.map((u) => ({ b, units: [u] })));
  const joints = joint.flatMap((sets, b) => sets.map((units) => ({ b, units })));
  const studentRound1 = changes('student', [...singles, ...joints]);
  const teacherSingles = changes('teacher', singles);
  const effects = inputs.map(() => new Map<number, Effect>());
  singles.forEach((r, k) => effects[r.b].set(r.units[0], { teacher: teacherSingles[k], student: studentRound1[k] }));
  const single = effects.map((e) => new Map(e));
  const need = (b: number, u: number) => teacherNeed(inputs[b].student.occlusionUnits!, single[b], u);
  // Text the teacher needs is no confounder, whichever removal measured it: an effect credited to
  // u keeps at least u's own teacher need.
  const needed = (e: Effect, b: number, u: number): Effect => {
    const floor = need(b, u);
    return Math.abs(e.teacher) >= floor ? e : { teacher: floor, student: e.student };
  };
  // A joint removal's effect is credited to every copy it removed, where it is the larger contrast.
  // The credit's contrast is at most |Δℓ_S| − the copy's teacher need, so the teacher is measured
  // only where that bound beats what the copy already has: the scores are those of measuring all.
  const jointStudent = joints.map((_, k) => studentRound1[singles.length + k]);
  const jointUseful = joints.map((r, k) => r.units.some((u) => !effects[r.b].has(u) || Math.abs(jointStudent[k]) - need(r.b, u) > contrast(effects[r.b].get(u)!)));
  const jointTeacher = lazily(joints, jointUseful, (measured) => changes('teacher', measured));
  joints.forEach((r, k) => {
    if (!jointUseful[k]) return;
    const e = { teacher: jointTeacher[k], student: jointStudent[k] };
    for (const u of r.units) {
      const credit = needed(e, r.b, u);
      if (!effects[r.b].has(u) || contrast(credit) > contrast(effects[r.b].get(u)!)) effects[r.b].set(u, credit);
    }
  });

  // Round 2: the disjoint units the teacher needs least removed together, each put back in turn.
  const sets = chosen.map((_, b) => {
    const units = inputs[b].student.occlusionUnits!;
    const set: number[] = [];
    // Not chosen by c(u): when every copy hides behind the others, all of them score ≈ 0 alone. Text
    // the teacher does not need can go together and leave the teacher's prediction standing, so
    // what the student loses then is a shortcut those units carry between them.
    const byTeacherNeed = [...effects[b]].sort((x, y) => Math.abs(x[1].teacher) - Math.abs(y[1].teacher) || contrast(y[1]) - contrast(x[1]));
    for (const [u] of byTeacherNeed)
      if (set.length < CONTRASTIVE_REDUNDANT_SET && set.every((v) => !overlaps(units[u], units[v]))) set.push(u);
    return set.length > 1 ? set : [];
  });
  const whole = sets.flatMap((set, b) => (set.length === 0 ? [] : [{ b, units: set }]));
  const putBacks = whole.flatMap(({ b, units: set }) => set.map((u) => ({ b, units: set.filter((v) => v !== u), kept: u })));
  const studentRound2 = changes('student', [...whole, ...putBacks]);
  const studentWhole = new Map(whole.map((r, k) => [r.b, studentRound2[k]]));
  // What the student misses with S ∖ u gone and u kept is not u's doing: it counts against u. So
  // u's contrast is at most |d_S(u)| − max(|Δℓ_S(S ∖ u)|, its teacher need), and the teacher is
  // measured only where that bound beats what u already has.
  const putBackStudent = putBacks.map((_, k) => studentRound2[whole.length + k]);
  const putBackUseful = putBacks.map((r, k) => {
    const rest = putBackStudent[k];
    return Math.abs(studentWhole.get(r.b)! - rest) - Math.max(Math.abs(rest), need(r.b, r.kept)) > contrast(effects[r.b].get(r.kept)!);
  });
  const wholeUseful = whole.map((r) => putBacks.some((p, k) => p.b === r.b && putBackUseful[k]));
  const teacherWhole = lazily(whole, wholeUseful, (measured) => changes('teacher', measured));
  const teacherWholeBySample = new Map(whole.map((r, k) => [r.b, teacherWhole[k]]));
  const putBackTeacher = lazily(putBacks, putBackUseful, (measured) => changes('teacher', measured));
  putBacks.forEach((r, k) => {
    if (!putBackUseful[k]) return;
    const all = { teacher: teacherWholeBySample.get(r.b)!, student: studentWhole.get(r.b)! };
    const rest = { teacher: putBackTeacher[k], student: putBackStudent[k] };
    const share = needed({ teacher: Math.abs(all.teacher - rest.teacher) + Math.abs(rest.student), student: all.student - rest.student }, r.b, r.kept);
    if (contrast(share) > contrast(effects[r.b].get(r.kept)!)) effects[r.b].set(r.kept, share);
  });
  // A word's own removal may spare the teacher where the phrase holding it does not.
  effects.forEach((e, b) => {
    for (const [u, x] of e) e.set(u, needed(x, b, u));
  });

  // A token no measured unit covers has no evidence either way: it takes the least contrastive
  // measured effect (teacher side), so it never outranks measured text as a confounder.
  const unmeasured = effects.map((e) => Math.max(0, ...[...e.values()].map((x) => -contrast(x))));
  const side = (role: 'teacher' | 'student') =>
    inputs.map((pair, b) => {
      const measured = [...effects[b]];
      const fill = role === 'teacher' ? unmeasured[b] : 0;
      return tokenScores(pair[role], measured.map(([u]) => pair[role].occlusionUnits![u]), measured.map(([, e]) => Math.abs(e[role])), measured.map(([, e]) => contrast(e)), base[role][b], fill);
    });
  return { teacher: side('teacher'), student: side('student') };
}

/** Each token: the effect of the highest-`rank` unit covering it (`fill` when none does). */
function tokenScores(input: ScoringInput, units: OcclusionUnit[], effect: number[], rank: number[], loss: number, fill = 0): TokenScores {
  const scores = new Float32Array(input.ids.length).fill(fill);
  const best = new Float32Array(input.ids.length).fill(-Infinity);
  units.forEach((unit, k) => {
    for (const t of unit.tokens)
      if (rank[k] > best[t]) {
        best[t] = rank[k];
        scores[t] = effect[k];
      }
  });
  return { scores, loss };
}
