import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number, done: number): void;
  /** `details`: a short status shown after the count (loss, lr, tokens/s). */
  update(done: number, details?: string): void;
  stop(): void;
}

/** A progress bar on stderr; plain periodic lines when stderr is not a terminal (CI logs). */
export function progressBar(label: string, unit = 'steps'): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ${unit}{details} | ETA {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, done) => bar.start(total, done, { details: '' }),
    update: (done, details) => bar.update(done, { details: details ? ` | ${details}` : '' }),
    stop: () => bar.stop(),
  };
}

export const silentProgress: Progress = { start() {}, update() {}, stop() {} };
