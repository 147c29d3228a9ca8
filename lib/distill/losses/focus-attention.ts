import * as tf from '@tensorflow/tfjs-core';
import { registerLoss } from './registry.ts';

const EPS = 1e-6;

/**
 * The focus term (--focus-loss W): at each predicting position of a row with flagged spans, the
 * student's share of its instruction attention that falls on those spans, m_S, is pulled toward
 * the teacher's share m_T by the Bernoulli KL
 *   KL(m_T ‖ m_S) = m_T·log(m_T/m_S) + (1 − m_T)·log((1 − m_T)/(1 − m_S)).
 * Shares are taken on each model's own tokens (spans found through characters), so the tokenizers
 * may differ. Rows without flagged spans contribute 0. An auxiliary term: trainers add it to the
 * distillation loss with its weight; it cannot be the --loss itself.
 */
registerLoss({
  name: 'focus-attention',
  description: 'auxiliary: Bernoulli KL between teacher and student attention share on the flagged spans (--focus-loss)',
  teacher: 'full',
  auxiliary: true,
  perToken({ focus }) {
    if (!focus) throw new Error('focus-attention is an auxiliary term (--focus-loss W), not a distillation --loss');
    const { studentAttention, focusMask, regionMask, teacherShare, active } = focus;
    const inRegion = tf.sum(tf.mul(studentAttention, regionMask), -1);
    const share = tf.clipByValue(tf.div(tf.sum(tf.mul(studentAttention, focusMask), -1), tf.add(inRegion, EPS)), EPS, 1 - EPS);
    const t = tf.clipByValue(teacherShare, EPS, 1 - EPS);
    const kl = tf.add(tf.mul(t, tf.log(tf.div(t, share))), tf.mul(tf.sub(1, t), tf.log(tf.div(tf.sub(1, t), tf.sub(1, share)))));
    return tf.mul(kl, active) as tf.Tensor1D;
  },
});
