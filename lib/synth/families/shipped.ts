import { registerFamily } from './registry.ts';

/**
 * The task the shipped models (data/models, analyses/train-base.ts) were trained on and `leaf demo`
 * runs on. Answers are single digits: `leaf distill` pairs the response tokens of teacher and
 * student one to one, and the student's word-level "37" would not pair with the teacher's "3" "7".
 * Templates are the positional ones (ordered keys, list index, sum) a ~0.5M-parameter teacher
 * learns in minutes; shuffled-key lookups need an induction circuit that forms much later.
 */
registerFamily({
  name: 'shipped',
  description: 'one short distractor per sample (hint / guess before the question, tag at the start, aside at the end), 3-4 facts',
  options: {
    seed: 1,
    maxValue: 9,
    items: { min: 3, max: 4 },
    templates: ['kv-ordered', 'list-index', 'add'],
    distractorKinds: ['hint', 'guess', 'tag', 'aside'],
    distractorsPerSample: { min: 1, max: 1 },
    shortcutRate: 0.9,
    distillShortcutRate: 0.9,
    cleanRates: { 'train-student': 0, 'train-teacher': 0.2, 'train-distill': 0 },
    sizes: { 'train-student': 20000, 'train-teacher': 20000, 'train-distill': 1000, test: 500, clean: 500 },
  },
});
