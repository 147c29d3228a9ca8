import './forward-kl.ts';
import './reverse-kl.ts';
import './jsd.ts';
import './topk-kl.ts';
import './cross-entropy.ts';
import './focus-attention.ts';

export { getLoss, listLosses, registerLoss } from './registry.ts';
export { logProbsAt } from './log-probs.ts';
export { MASKED_LOGIT } from './types.ts';
export type { DistillLoss, FocusInputs, LossInputs, TeacherTargets } from './types.ts';
