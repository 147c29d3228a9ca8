import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, done: number): void;
  /** `details`: a short status shown after the count (loss, lr, tokens/s). */
  update(done: number, details?: string): void;
  stop(): void;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Non-terminal output: a line at every further tenth of the work, or after this long without one. */
const LINE_EVERY_FRACTION = 0.1;
const LINE_EVERY_MS = 30_000;

/** "1h 02m", "4m 05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

const formatRate = (rate: number) => rate.toFixed(rate < 10 ? 2 : 1);

/**
 * Plain progress lines for logs (CI, Slurm, a pipe): done/total, percentage, rate and ETA, at
 * every tenth of the work or every 30 s, whichever comes first, and once at the end.
 */
export function progressLines(label: string, unit: string, output: ProgressOutput, now: () => number = () => performance.now()): Progress {
  let total = 0;
  let first = 0;
  let startedAt = 0;
  let lastAt = 0;
  let lastDone = -1;
  let nextFraction = 0;
  let current = 0;
  let details = '';
  const line = (done: number) => {
    const seconds = (now() - startedAt) / 1000;
    const rate = seconds > 0 ? (done - first) / seconds : 0;
    const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
    const eta = done >= total ? 'done' : rate > 0 ? `ETA ${formatDuration((total - done) / rate)}` : 'ETA ?';
    output.write(`${label} ${done}/${total} ${unit}${percent} | ${formatRate(rate)} ${unit}/s | ${eta}${details}\n`);
    lastAt = now();
    lastDone = done;
    while (total > 0 && nextFraction <= done / total) nextFraction += LINE_EVERY_FRACTION;
  };
  return {
    start(newTotal, done) {
      total = newTotal;
      first = current = done;
      startedAt = now();
      nextFraction = 0;
      line(done);
    },
    update(done, newDetails) {
      current = done;
      details = newDetails ? ` | ${newDetails}` : '';
      if (done === lastDone) return;
      if ((total > 0 && done / total >= nextFraction - 1e-9) || now() - lastAt >= LINE_EVERY_MS || done >= total) line(done);
    },
    stop() {
      if (current !== lastDone) line(current);
    },
  };
}

/** A progress bar on stderr; plain periodic lines when stderr is not a terminal (CI logs). */
export function progressBar(label: string, unit = 'steps', output: ProgressOutput = process.stderr): Progress {
  if (!output.isTTY) return progressLines(label, unit, output);
  let first = 0;
  let startedAt = 0;
  const rate = (done: number) => {
    const seconds = (performance.now() - startedAt) / 1000;
    return formatRate(seconds > 0 ? (done - first) / seconds : 0);
  };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit} | {rate} ${unit}/s{details} | ETA {eta_formatted}`,
      stream: output as NodeJS.WritableStream,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, done) => {
      first = done;
      startedAt = performance.now();
      bar.start(total, done, { details: '', rate: rate(done) });
    },
    update: (done, details) => bar.update(done, { details: details ? ` | ${details}` : '', rate: rate(done) }),
    stop: () => bar.stop(),
  };
}

export const silentProgress: Progress = { start() {}, update() {}, stop() {} };
