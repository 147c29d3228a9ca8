import { fullTeacherLogProbs, klRows, studentLogProbs, temperatureScaled } from './log-probs.ts';
import { registerLoss } from './registry.ts';

registerLoss({
  name: 'reverse-kl',
  description: 'KL(p_student ‖ p_teacher) at temperature T, ×T² (mode-seeking)',
  teacher: 'full',
  perToken(inputs) {
    return temperatureScaled(klRows(studentLogProbs(inputs), fullTeacherLogProbs(inputs, 'reverse-kl')), inputs.temperature);
  },
});
