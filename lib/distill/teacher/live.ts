import * as tf from '@tensorflow/tfjs-core';
import type { CausalLM } from '../../models/types.ts';
import { collateSide, disposeSide } from '../data/collate.ts';
import type { EncodedRow } from '../data/encode.ts';
import type { VocabMap } from '../vocab.ts';
import { meanAttentionRows } from '../attention/rows.ts';
import type { TeacherOutput, TeacherSignal } from './types.ts';

/** A teacher model run on each micro-batch (frozen: no gradient is ever taken through it). */
export class LiveTeacher implements TeacherSignal {
  readonly kind = 'full' as const;
  private readonly columns?: tf.Tensor1D;
  private readonly bias?: tf.Tensor1D;

  constructor(private readonly model: CausalLM, vocab: VocabMap) {
    if (vocab.mode === 'intersect') {
      this.columns = tf.tensor1d(vocab.teacherColumns!, 'int32');
      this.bias = tf.tensor1d(vocab.studentBias!);
    }
  }

  output(rows: EncodedRow[], options: { attentionLayers?: number } = {}): TeacherOutput {
    const side = collateSide(rows.map((r) => r.teacher), (b) => `${rows[b].row.origin} (teacher)`);
    try {
      return tf.tidy(() => {
        const wantAttention = options.attentionLayers !== undefined;
        const { hidden, attentions } = this.model.forwardHidden(this.model.embed(side.inputIds), { outputAttentions: wantAttention });
        const [B, T, D] = hidden.shape;
        const picked = tf.gather(tf.reshape(hidden, [B * T, D]), side.predicting);
        let logits = this.model.headLogits(picked as tf.Tensor2D);
        // Intersect: column s of the student takes the teacher's column for the same token string.
        if (this.columns && this.bias) logits = tf.add(tf.gather(logits, this.columns, 1), this.bias) as tf.Tensor2D;
        const out: TeacherOutput = { targets: { kind: 'full', logits } };
        if (wantAttention) out.attention = meanAttentionRows(attentions!, options.attentionLayers!, side.predicting);
        return out as unknown as tf.TensorContainer;
      }) as unknown as TeacherOutput;
    } finally {
      disposeSide(side);
    }
  }

  dispose(): void {
    tf.dispose([this.columns, this.bias].filter((t): t is tf.Tensor1D => t !== undefined));
  }
}
