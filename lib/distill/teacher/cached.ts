import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import type { EncodedRow } from '../data/encode.ts';
import { logProbsAt, MASKED_LOGIT } from '../losses/index.ts';
import { TeacherCacheReader, TeacherCacheWriter, readCacheHeader, type CacheHeader } from './cache-file.ts';
import type { LiveTeacher } from './live.ts';
import type { TeacherOutput, TeacherSignal } from './types.ts';

export interface CacheSpec {
  dir: string;
  k: number;
  temperature: number;
  /** Label of the teacher (its path), part of the fingerprint. */
  teacher: string;
  vocabMode: string;
  /** [V] 0 / MASKED_LOGIT over the student vocabulary in intersect mode. */
  vocabBias?: Float32Array;
}

/** Ties a cache to the teacher, the vocabulary mode, K, T and every row's supervised tokens. */
export function cacheFingerprint(spec: CacheSpec, rows: EncodedRow[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ teacher: spec.teacher, vocab: spec.vocabMode, k: spec.k, temperature: spec.temperature }));
  for (const { index, row, student } of rows) hash.update(JSON.stringify([index, row.id, student.targets.map((i) => student.ids[i])]));
  return hash.digest('hex');
}

/**
 * Runs the teacher once over every row (rows[i].index must be i) and writes its top-K log-probabilities (at temperature T,
 * over the student's vocabulary) and tail mass per supervised position. Rows go in length order so
 * batches pad little.
 */
export function buildTeacherCache(
  spec: CacheSpec,
  teacher: LiveTeacher,
  rows: EncodedRow[],
  batchSize: number,
  onBatch: (rowsDone: number) => void,
): CacheHeader {
  const vocab = spec.vocabBias?.length;
  const ordered = [...rows].sort((a, b) => a.teacher.ids.length - b.teacher.ids.length);
  const writer = new TeacherCacheWriter(spec.dir, spec.k, rows.length);
  const bias = spec.vocabBias ? tf.tensor1d(spec.vocabBias) : undefined;
  try {
    let done = 0;
    for (let start = 0; start < ordered.length; start += batchSize) {
      const batch = ordered.slice(start, start + batchSize);
      const { targets } = teacher.output(batch);
      if (targets.kind !== 'full') throw new Error('teacher cache: the live teacher must give full logits');
      const [ids, logProbs, tail] = tf.tidy(() => {
        const logp = logProbsAt(targets.logits, spec.temperature, bias);
        const [n, v] = logp.shape;
        if (vocab !== undefined && vocab !== v) throw new Error('teacher cache: vocabulary bias does not match the logits');
        if (spec.k > v) throw new Error(`--cache-teacher ${spec.k} exceeds the vocabulary size ${v}`);
        const top = tf.topk(logp, spec.k);
        const rowsIdx = tf.tile(tf.expandDims(tf.range(0, n, 1, 'int32'), 1), [1, spec.k]);
        const coords = tf.reshape(tf.stack([rowsIdx, top.indices], 2), [n * spec.k, 2]) as tf.Tensor2D;
        const inTopK = tf.scatterND(coords, tf.ones([n * spec.k]), [n, v]);
        const tailLog = tf.maximum(tf.logSumExp(tf.add(logp, tf.mul(inTopK, MASKED_LOGIT)), -1), MASKED_LOGIT);
        return [top.indices, top.values, tailLog];
      });
      tf.dispose(targets.logits);
      const idData = ids.dataSync() as Int32Array;
      const lpData = logProbs.dataSync() as Float32Array;
      const tailData = tail.dataSync() as Float32Array;
      tf.dispose([ids, logProbs, tail]);
      let position = 0;
      for (const row of batch) {
        const count = row.student.targets.length;
        writer.append(row.index, {
          positions: count,
          ids: idData.slice(position * spec.k, (position + count) * spec.k),
          logProbs: lpData.slice(position * spec.k, (position + count) * spec.k),
          tailLogMass: tailData.slice(position, position + count),
        });
        position += count;
      }
      done += batch.length;
      onBatch(done);
    }
    return writer.finish({ temperature: spec.temperature, fingerprint: cacheFingerprint(spec, rows), teacher: spec.teacher });
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    bias?.dispose();
  }
}

/** The complete cache for exactly these rows and settings, or undefined (none yet, or a stale one). */
export function findTeacherCache(spec: CacheSpec, rows: EncodedRow[]): CacheHeader | undefined {
  const header = readCacheHeader(spec.dir);
  if (!header) return undefined;
  if (header.fingerprint !== cacheFingerprint(spec, rows) || header.k !== spec.k || header.temperature !== spec.temperature)
    throw new Error(
      `${spec.dir} holds a teacher cache built for other data or settings (teacher, --vocab-map, --cache-teacher K, --temperature or the rows differ); delete it or use another --out`,
    );
  return header;
}

/** Teacher targets read from the cache; the teacher model is not needed. */
export class CachedTeacher implements TeacherSignal {
  readonly kind = 'topk' as const;
  private readonly reader: TeacherCacheReader;

  constructor(dir: string, header: CacheHeader) {
    this.reader = new TeacherCacheReader(dir, header);
  }

  output(rows: EncodedRow[], options: { attentionLayers?: number } = {}): TeacherOutput {
    if (options.attentionLayers !== undefined) throw new Error('the attention loss needs the live teacher; it cannot be used with --cache-teacher');
    const k = this.reader.header.k;
    const records = rows.map((row) => {
      const record = this.reader.read(row.index);
      if (record.positions !== row.student.targets.length)
        throw new Error(`teacher cache: ${row.row.origin} has ${row.student.targets.length} supervised tokens but the cache holds ${record.positions}`);
      return record;
    });
    const n = records.reduce((sum, r) => sum + r.positions, 0);
    const ids = new Int32Array(n * k);
    const logProbs = new Float32Array(n * k);
    const tail = new Float32Array(n);
    let position = 0;
    for (const record of records) {
      ids.set(record.ids, position * k);
      logProbs.set(record.logProbs, position * k);
      tail.set(record.tailLogMass, position);
      position += record.positions;
    }
    return {
      targets: {
        kind: 'topk',
        ids: tf.tensor2d(ids, [n, k], 'int32'),
        logProbs: tf.tensor2d(logProbs, [n, k]),
        tailLogMass: tf.tensor1d(tail),
      },
    };
  }

  dispose(): void {
    this.reader.close();
  }
}
