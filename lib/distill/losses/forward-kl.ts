import { fusedForwardKl } from './fused-forward-kl.ts';
import { fullTeacherLogits } from './log-probs.ts';
import { registerLoss } from './registry.ts';

registerLoss({
  name: 'forward-kl',
  description: 'KL(p_teacher ‖ p_student) at temperature T, ×T² (the paper\'s loss)',
  teacher: 'full',
  perToken(inputs) {
    return fusedForwardKl(inputs.studentLogits, fullTeacherLogits(inputs, 'forward-kl'), inputs.temperature, inputs.vocabBias);
  },
});
