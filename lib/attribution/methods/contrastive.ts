import * as tf from '@tensorflow/tfjs-core';
import { minMaxNormalize } from '../../confounders/normalize.ts';
import { gradientScores, losses } from '../loss.ts';
import { registerAttributionMethod } from '../registry.ts';
import type { LossInput, OcclusionUnit, PairInput, ScoringInput, TokenScores } from '../types.ts';

/** Round 1 occludes up to CONTRASTIVE_MAX_PHRASES phrases and this many words: those the student's gradient ranks highest. */
export const CONTRASTIVE_EXTRA_UNITS = 2;
/** Phrases occluded in round 1 at most (by gradient rank), so long inputs cost a bounded number of passes. */
export const CONTRASTIVE_MAX_PHRASES = 4;
/** Round 2 removes this many of round 1's units together (those the teacher needs least), to see through redundant copies. */
export const CONTRASTIVE_REDUNDANT_SET = 4;

/** A repeated word is occluded jointly only when its copies lie in 2 to this many phrases (one variant per copy). */
export const CONTRASTIVE_MAX_COPIES = 4;

const l2 = (grad: tf.Tensor3D) => tf.sqrt(tf.sum(tf.square(grad), 2)) as tf.Tensor2D;

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
 * Cost per sample: the student's gradient (1 forward + backward), then in each model 1 forward of
 * the sample and at most MAX_PHRASES + EXTRA_UNITS + MAX_COPIES + 1 + REDUNDANT_SET (= 15) of
 * shortened ones (two copies outside the candidates add two single removals instead of MAX_COPIES).
 */
registerAttributionMethod({
  name: 'contrastive',
  description: 'gradient candidates verified by occluding words and phrases in both models; score = student loss change − teacher loss change (the default)',
  occlusionUnits: ['word', 'phrase'],
  comparison: 'raw',
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
    const studentGrad = gradientScores(student, inputs.map((p) => p.student), studentPadId, l2);
    const measure = (variants: { teacher: LossInput; student: LossInput }[]) => {
      const t = losses(teacher, variants.map((v) => v.teacher), teacherPadId, batchSize);
      const s = losses(student, variants.map((v) => v.student), studentPadId, batchSize);
      return variants.map((_, k) => ({ teacher: t[k], student: s[k] }));
    };
    // Unmodified losses by the same forward path as the variants', so Δℓ has no numerical offset
    // (the gradient pass computes the loss slightly differently).
    const base = measure(inputs.map((p) => ({ teacher: p.teacher, student: p.student })));

    // Round 1: candidate units, one removal each, and the copies of a repeated word all but one
    // removed (each copy kept in turn), both models.
    const gS = inputs.map((pair, b) => normalisedOnScored(pair.student, studentGrad[b].scores));
    const chosen = inputs.map((pair, b) => candidates(pair, gS[b]));
    const joint = inputs.map((pair, b) => {
      const holders = copyHolders(pair, gS[b]);
      const sets = holders.map((keep) => holders.filter((h) => h !== keep));
      // All but one of two copies is one unit: a single removal.
      for (const [u] of sets.filter((set) => set.length === 1)) if (!chosen[b].includes(u)) chosen[b].push(u);
      return sets.filter((set) => set.length > 1);
    });
    const round1 = measure([
      ...chosen.flatMap((units, b) => units.map((u) => ({ teacher: inputs[b].teacher.occlusionUnits![u].variant, student: inputs[b].student.occlusionUnits![u].variant }))),
      ...joint.flatMap((sets, b) => sets.map((set) => ({ teacher: inputs[b].teacher.without!(set), student: inputs[b].student.without!(set) }))),
    ]);
    let next = 0;
    const change = (after: Effect, b: number): Effect => ({ teacher: after.teacher - base[b].teacher, student: after.student - base[b].student });
    const effects = chosen.map((units, b) => new Map(units.map((u) => [u, change(round1[next++], b)] as const)));
    const single = effects.map((e) => new Map(e));
    // Text the teacher needs is no confounder, whichever removal measured it: an effect credited to
    // u keeps at least u's own teacher need.
    const needed = (e: Effect, b: number, u: number): Effect => {
      const need = teacherNeed(inputs[b].student.occlusionUnits!, single[b], u);
      return Math.abs(e.teacher) >= need ? e : { teacher: need, student: e.student };
    };
    // A joint removal's effect is credited to every copy it removed, where it is the larger contrast.
    joint.forEach((sets, b) => {
      for (const set of sets) {
        const e = change(round1[next++], b);
        for (const u of set) {
          const credit = needed(e, b, u);
          if (!effects[b].has(u) || contrast(credit) > contrast(effects[b].get(u)!)) effects[b].set(u, credit);
        }
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
    const round2 = measure(
      sets.flatMap((set, b) =>
        set.length === 0 ? [] : [set, ...set.map((u) => set.filter((v) => v !== u))].map((removed) => ({ teacher: inputs[b].teacher.without!(removed), student: inputs[b].student.without!(removed) })),
      ),
    );
    next = 0;
    sets.forEach((set, b) => {
      if (set.length === 0) return;
      const all = change(round2[next++], b);
      for (const u of set) {
        const rest = change(round2[next++], b);
        // What the student misses with S ∖ u gone and u kept is not u's doing: it counts against u.
        const share = needed({ teacher: Math.abs(all.teacher - rest.teacher) + Math.abs(rest.student), student: all.student - rest.student }, b, u);
        if (contrast(share) > contrast(effects[b].get(u)!)) effects[b].set(u, share);
      }
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
        return tokenScores(pair[role], measured.map(([u]) => pair[role].occlusionUnits![u]), measured.map(([, e]) => Math.abs(e[role])), measured.map(([, e]) => contrast(e)), base[b][role], fill);
      });
    return { teacher: side('teacher'), student: side('student') };
  },
});

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
