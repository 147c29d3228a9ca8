// @ts-check
// The training view: loss curves of the distill runs and their evaluation table (KD vs LeaF).

/** @param {any[]} runs */
function metricChoices(runs) {
  /** @type {[string, string, (run: any) => {x: number[], y: (number | null)[]}][]} */
  const choices = [['loss', 'Training loss', (run) => ({ x: run.train.step, y: run.train.loss })]];
  const terms = [...new Set(runs.flatMap((run) => Object.keys(run.train.terms)))];
  for (const term of terms) choices.push([`term:${term}`, `Loss term: ${term}`, (run) => ({ x: run.train.step, y: run.train.terms[term] || run.train.step.map(() => null) })]);
  if (runs.some((run) => run.validation.val_loss.some((/** @type {any} */ v) => v !== null))) choices.push(['val_loss', 'Validation loss', (run) => ({ x: run.validation.step, y: run.validation.val_loss })]);
  if (runs.some((run) => run.validation.val_accuracy.some((/** @type {any} */ v) => v !== null))) choices.push(['val_accuracy', 'Validation accuracy', (run) => ({ x: run.validation.step, y: run.validation.val_accuracy })]);
  choices.push(['lr', 'Learning rate', (run) => ({ x: run.train.step, y: run.train.lr })]);
  choices.push(['grad_norm', 'Gradient norm', (run) => ({ x: run.train.step, y: run.train.grad_norm })]);
  choices.push(['tokens_per_s', 'Tokens / s', (run) => ({ x: run.train.step, y: run.train.tokens_per_s })]);
  return choices;
}

/** Smoothing weights offered for the curves (0: the raw per-step values only). */
const SMOOTHING = [0, 0.6, 0.8, 0.9, 0.95, 0.99];
const DEFAULT_SMOOTHING = 0.8;

/**
 * Exponential moving average with the start-up bias removed (as TensorBoard smooths), skipping
 * missing values: per-step losses are noisy enough to hide the trend otherwise.
 * @param {(number | null)[]} values @param {number} weight @returns {(number | null)[]}
 */
function smoothCurve(values, weight) {
  let average = 0;
  let seen = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    seen++;
    average = average * weight + (1 - weight) * v;
    return average / (1 - weight ** seen);
  });
}

/** @param {any[]} runs @returns {{ root: HTMLElement, mountCharts: () => void }} */
function renderTraining(runs) {
  const choices = metricChoices(runs);
  const select = /** @type {HTMLSelectElement} */ (el('select', { id: 'metric', 'aria-label': 'Metric to plot' }, choices.map(([key, label]) => el('option', { value: key, text: label }))));
  const smoothing = /** @type {HTMLSelectElement} */ (
    el('select', { id: 'smoothing', 'aria-label': 'Smoothing of the curves' }, SMOOTHING.map((w) => el('option', { value: String(w), text: w ? `smoothed (EMA ${w}) + raw` : 'raw only' })))
  );
  smoothing.value = String(DEFAULT_SMOOTHING);
  const chartBox = el('div', { className: 'chart', id: 'chart-training' });
  /** @type {any} */
  let chart = null;
  const draw = () => {
    if (chart) chart.destroy();
    const choice = choices.find(([key]) => key === select.value) || choices[0];
    const tables = runs.map((run) => {
      const { x, y } = choice[2](run);
      return [x, y.map((v) => (v === null ? null : v))];
    });
    const joined = UPlot.join(tables);
    const weight = Number(smoothing.value);
    const series = runs.flatMap((run, i) => {
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      const raw = /** @type {(number | null)[]} */ (joined[i + 1]);
      if (!weight) return [{ label: run.name, values: raw, color, width: 1.8 }];
      // The raw curve stays, faint, behind the smoothed one (and in the legend's live values).
      return [
        { label: run.name, values: smoothCurve(raw, weight), color, width: 2 },
        { label: `${run.name} (raw)`, values: raw, color: `${color}55`, width: 1 },
      ];
    });
    chart = lineChart(chartBox, { x: joined[0], xLabel: 'step', yLabel: choice[1], height: 300, integerX: true, series });
  };
  select.addEventListener('change', draw);
  smoothing.addEventListener('change', draw);
  const bucketNote = runs.some((run) => run.bucket > 1) ? el('p', { className: 'note', text: 'Long runs are drawn as means over buckets of consecutive steps.' }) : null;

  const evalRows = runs.flatMap((run) => run.evals.map((/** @type {any} */ e) => ({ run: run.name, ...e })));
  const baseline = (/** @type {string} */ split) => evalRows.find((e) => e.split === split);
  const table = evalRows.length
    ? el('table', { className: 'data', id: 'eval-table' }, [
        el('thead', null, [
          el('tr', null, [
            el('th', { text: 'Run' }), el('th', { text: 'Split' }), el('th', { className: 'num', text: 'n' }),
            el('th', { className: 'num', text: 'Accuracy' }), el('th', { className: 'num', text: 'vs first run' }),
            el('th', { className: 'num', text: 'Attention mass on flagged' }), el('th', { className: 'num', text: 'vs first run' }),
            el('th', { className: 'num', text: 'Flagged token share' }),
          ]),
        ]),
        el('tbody', null, evalRows.map((e) => {
          const base = baseline(e.split);
          const accDelta = base && base !== e && e.accuracy !== null && base.accuracy !== null ? e.accuracy - base.accuracy : null;
          const massDelta = base && base !== e && e.attention_mass !== null && base.attention_mass ? e.attention_mass / base.attention_mass - 1 : null;
          return el('tr', null, [
            el('td', { text: e.run }), el('td', { text: e.split }), el('td', { className: 'num', text: e.n === undefined ? '–' : fmtInt(e.n) }),
            el('td', { className: 'num', text: fmtPct(e.accuracy) }),
            el('td', { className: 'num', text: accDelta === null ? '' : `${accDelta >= 0 ? '+' : ''}${(accDelta * 100).toFixed(1)} pts` }),
            el('td', { className: 'num', text: fmtNum(e.attention_mass) }),
            el('td', { className: 'num', text: massDelta === null ? '' : `${massDelta >= 0 ? '+' : ''}${(massDelta * 100).toFixed(0)}%` }),
            el('td', { className: 'num', text: fmtPct(e.flagged_token_fraction) }),
          ]);
        })),
      ])
    : el('p', { className: 'empty', text: 'No eval*.json in the run directories.' });

  const root = el('div', { className: 'stack' }, [
    el('section', { className: 'panel' }, [el('div', { className: 'chart-title' }, [el('h2', { text: 'Training curves' }), el('span', { className: 'controls' }, [select, smoothing])]), chartBox, bucketNote]),
    el('section', { className: 'panel' }, [
      el('h2', { text: 'Evaluation: KD vs LeaF' }),
      table,
      el('p', { className: 'note', text: 'Attention mass: share of the attention that response positions give the analysed region which falls on flagged tokens (averaged over heads and layers); lower means the student attends less to confounders. Comparisons are against the first run given on the same split.' }),
    ]),
  ]);
  return { root, mountCharts: draw };
}
