import { attributionMethodNames } from '../attribution/index.ts';
import { parseRuleSpec } from '../confounders/index.ts';
import { CONSISTENCY_PULLS, FOCUS_TARGETS, type ConsistencyPull, type FocusTarget } from '../distill/index.ts';
import { backendNames, type BackendChoice } from '../runtime/index.ts';
import { parseNumber, type OptionSpecs } from '../util/options.ts';

/** Everything `leaf demo` takes; the CLI fills it from flags, the test directly. */
export interface DemoOptions {
  out: string;
  /** Default: the shipped data/models/teacher. */
  teacher?: string;
  /** Default: the shipped data/models/student. */
  student?: string;
  /** Directory with train-distill.jsonl, test.jsonl and clean.jsonl (lib/synth's layout); default: the shipped data/synth. */
  corpus?: string;
  /** Samples of train-distill analysed, pruned and distilled on. */
  samples: number;
  /** Samples of the test (shortcut broken) and clean (control) splits evaluated. */
  evalSamples: number;
  method: string;
  rule: string;
  select: 'all' | 'teacher-correct-student-wrong';
  /**
   * Train LeaF only on counterfactuals that pass verification (both models right on them, the
   * paper's filter). Off by default: with a shortcut student, verification keeps mostly the
   * counterfactuals that leave the distractor in place (the student still copies it right) and
   * drops those that remove it (reports/planted-confounders.md measures both).
   */
  verifiedOnly: boolean;
  /** LeaF's focus term (`leaf distill --focus-loss`): weight; 0 = the paper's plain KL. */
  focusLoss: number;
  /** Layers the focus term averages attention over (`--attention-layers`). */
  attentionLayers: number;
  /** Where the focus term pulls the share (`--focus-target`). */
  focusTarget: FocusTarget;
  /** LeaF's counterfactual-consistency term (`leaf distill --consistency-loss`): weight; 0 = off. */
  consistencyLoss: number;
  /** What the consistency term pulls (`--consistency-pull`). */
  consistencyPull: ConsistencyPull;
  /** Optimizer steps of each distillation run (both use the same). */
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Write report.html with leaf report. */
  report: boolean;
  backend?: BackendChoice;
  progress: boolean;
}

export const demoDefaults = {
  out: 'reports/demo',
  samples: 1000,
  evalSamples: 500,
  method: 'contrastive',
  rule: 'absolute:tau=0.1',
  focusLoss: 2,
  attentionLayers: 3,
  focusTarget: 'zero',
  consistencyLoss: 4,
  consistencyPull: 'mutual',
  select: 'all',
  verifiedOnly: false,
  steps: 600,
  batchSize: 32,
  lr: 2e-3,
  seed: 0,
  report: true,
  progress: true,
} as const satisfies Partial<DemoOptions>;

const int = (name: string, min: number) => parseNumber(name, { integer: true, min });

export const demoOptionSpecs: OptionSpecs<DemoOptions> = {
  out: { flags: '--out <dir>', description: 'where every output of the demo goes', default: demoDefaults.out },
  teacher: { flags: '--teacher <dir>', description: 'teacher checkpoint (default: the shipped data/models/teacher)' },
  student: { flags: '--student <dir>', description: 'student checkpoint (default: the shipped data/models/student)' },
  corpus: { flags: '--corpus <dir>', description: 'planted-confounder splits: train-distill.jsonl, test.jsonl, clean.jsonl (default: the shipped data/synth)' },
  samples: { flags: '--samples <n>', description: 'train-distill samples to analyse, prune and distil on', default: demoDefaults.samples, parse: int('--samples', 1) },
  evalSamples: { flags: '--eval-samples <n>', description: 'samples of the test and clean splits to evaluate', default: demoDefaults.evalSamples, parse: int('--eval-samples', 1) },
  method: { flags: '--method <name>', description: 'attribution method of the analysis', default: demoDefaults.method, choices: attributionMethodNames() },
  rule: { flags: '--rule <spec>', description: 'threshold rule of the analysis', default: demoDefaults.rule, parse: (raw) => (parseRuleSpec(raw), raw) },
  select: { flags: '--select <which>', description: 'samples to analyse', default: demoDefaults.select, choices: ['all', 'teacher-correct-student-wrong'] },
  verifiedOnly: { flags: '--verified-only', description: 'train LeaF only on counterfactuals both models answer right (the paper\'s filter; verification always runs and is recorded)', default: demoDefaults.verifiedOnly },
  focusLoss: { flags: '--focus-loss <w>', description: 'LeaF only: weight of the focus term (student attention share on flagged spans toward --focus-target; 0 = the paper\'s plain KL)', default: demoDefaults.focusLoss, parse: parseNumber('--focus-loss', { min: 0 }) },
  attentionLayers: { flags: '--attention-layers <k>', description: 'LeaF only: last k layers the focus term averages attention over', default: demoDefaults.attentionLayers, parse: int('--attention-layers', 1) },
  focusTarget: { flags: '--focus-target <which>', description: 'LeaF only: where the focus term pulls the attention share on the flagged spans (zero, or the teacher\'s share)', default: demoDefaults.focusTarget, choices: [...FOCUS_TARGETS] },
  consistencyLoss: { flags: '--consistency-loss <w>', description: 'LeaF only: weight of the counterfactual-consistency term (the student\'s outputs on each original and without its flagged spans pulled together; 0 = off)', default: demoDefaults.consistencyLoss, parse: parseNumber('--consistency-loss', { min: 0 }) },
  consistencyPull: { flags: '--consistency-pull <which>', description: 'LeaF only: what the consistency term pulls (mutual: each output toward the other; counterfactual: the original\'s toward the counterfactual\'s only)', default: demoDefaults.consistencyPull, choices: [...CONSISTENCY_PULLS] },
  steps: { flags: '--steps <n>', description: 'optimizer steps of each distillation (KD and LeaF alike)', default: demoDefaults.steps, parse: int('--steps', 1) },
  batchSize: { flags: '--batch-size <n>', description: 'rows per distillation step', default: demoDefaults.batchSize, parse: int('--batch-size', 1) },
  lr: { flags: '--lr <rate>', description: 'peak learning rate of the distillations', default: demoDefaults.lr, parse: parseNumber('--lr', { min: 0 }) },
  seed: { flags: '--seed <n>', description: 'seed of both distillations', default: demoDefaults.seed, parse: int('--seed', 0) },
  report: { flags: '--no-report', description: 'skip the HTML report', default: demoDefaults.report },
  backend: { flags: '--backend <name>', description: 'tensor backend', env: 'LEAF_BACKEND', choices: ['auto', ...backendNames()] },
  progress: { flags: '--no-progress', description: 'no progress bars of the stages', default: demoDefaults.progress },
};
