import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.ts';

/** One optimizer step, as written to DIR/metrics.jsonl. */
export interface TrainMetrics {
  kind: 'train';
  step: number;
  epoch: number;
  lr: number;
  loss: number;
  loss_terms: Record<string, number>;
  grad_norm: number;
  tokens_per_s: number;
  elapsed_s: number;
}

export interface ValidationMetrics {
  kind: 'validation';
  step: number;
  epoch: number;
  val_loss: number;
  val_loss_terms: Record<string, number>;
  val_accuracy?: number;
  best: boolean;
  elapsed_s: number;
}

export type MetricsLine = TrainMetrics | ValidationMetrics;

export class MetricsLog {
  constructor(readonly path: string) {}

  append(line: MetricsLine): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }

  /**
   * Drops the lines a resumed run will write again (steps after `step`) and any line cut short by
   * a kill, so the file reads as one uninterrupted run.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as MetricsLine).step <= step;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.path, kept.length ? `${kept.join('\n')}\n` : '');
  }

  /** Start a fresh log. */
  reset(): void {
    writeFileAtomic(this.path, '');
  }
}

export function readMetrics(path: string): MetricsLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as MetricsLine);
}
