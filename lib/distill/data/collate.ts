import * as tf from '@tensorflow/tfjs-core';
import type { SideTokens } from './encode.ts';
import { predictingPositions } from './positions.ts';

export interface SideBatch {
  /** [B, T] right-padded ids. */
  inputIds: tf.Tensor2D;
  /** [N] flat indices b·T + (i − 1) of the positions predicting each supervised token. */
  predicting: tf.Tensor1D;
  /** [N] the supervised token ids. */
  targets: tf.Tensor1D;
}

/**
 * Right-pads a micro-batch. No attention mask is needed: with causal attention a real token only
 * sees earlier positions, which are all real under right padding, and padded positions are never
 * read by the loss.
 */
export function collateSide(sides: SideTokens[], label: (i: number) => string): SideBatch {
  const batch = sides.length;
  const length = Math.max(...sides.map((s) => s.ids.length));
  const ids = new Int32Array(batch * length);
  const predicting: number[] = [];
  const targets: number[] = [];
  sides.forEach((side, b) => {
    ids.set(side.ids, b * length);
    for (const position of predictingPositions(side.targets, label(b))) predicting.push(b * length + position);
    for (const index of side.targets) targets.push(side.ids[index]);
  });
  return {
    inputIds: tf.tensor2d(ids, [batch, length], 'int32'),
    predicting: tf.tensor1d(predicting, 'int32'),
    targets: tf.tensor1d(targets, 'int32'),
  };
}

export function disposeSide(side: SideBatch): void {
  tf.dispose([side.inputIds, side.predicting, side.targets]);
}
