// @ts-check
// Charts through uPlot (inlined into the page). Each chart fills its container's width and follows it.

const UPlot = /** @type {any} */ (window).uPlot;
const AXIS = { stroke: '#5d6673', grid: { stroke: '#eceff2', width: 1 }, ticks: { stroke: '#dfe3e8', width: 1 }, font: '11px system-ui, sans-serif', labelFont: '600 11px system-ui, sans-serif' };

/** Tick steps for axes that count things (token index, training step). */
const INTEGER_INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000];

/** @param {HTMLElement} container @param {any} options @param {any[]} data */
function mountChart(container, options, data) {
  const width = Math.max(240, container.clientWidth || 480);
  const chart = new UPlot({ ...options, width, height: options.height || 220 }, data, container);
  const observer = new ResizeObserver(() => {
    const w = container.clientWidth;
    if (w && Math.abs(w - chart.width) > 1) chart.setSize({ width: w, height: chart.height });
  });
  observer.observe(container);
  return chart;
}

/**
 * @param {HTMLElement} container
 * @param {{ x: number[], counts: number[], xLabel: string, yLabel?: string, color?: string, fmtX?: (v: number) => string, height?: number }} spec
 */
function barChart(container, spec) {
  const fmtX = spec.fmtX || ((/** @type {number} */ v) => String(v));
  return mountChart(
    container,
    {
      height: spec.height,
      legend: { show: true, live: true },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      scales: { x: { time: false, range: (/** @type {any} */ _u, /** @type {number} */ min, /** @type {number} */ max) => padRange(spec.x, min, max) }, y: { range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [0, Math.max(1, max * 1.08)] } },
      axes: [
        { ...AXIS, label: spec.xLabel, values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) => ticks.map(fmtX) },
        { ...AXIS, label: spec.yLabel || 'count', size: 56 },
      ],
      series: [
        { label: spec.xLabel, value: (/** @type {any} */ _u, /** @type {number} */ v) => (v === null ? '–' : fmtX(v)) },
        { label: spec.yLabel || 'count', fill: spec.color || '#4393c3', stroke: spec.color || '#4393c3', width: 0, paths: UPlot.paths.bars({ size: [0.9, 100] }), points: { show: false } },
      ],
    },
    [spec.x, spec.counts],
  );
}

/** Half a bin of padding on both sides so edge bars are not cut. @param {number[]} x @param {number} min @param {number} max */
function padRange(x, min, max) {
  const step = x.length > 1 ? x[1] - x[0] : 1;
  return [min - step / 2, max + step / 2];
}

/**
 * @param {HTMLElement} container
 * @param {{ x: number[], series: {label: string, values: (number | null)[], color: string, dash?: number[], pointsOnly?: boolean, width?: number}[],
 *           xLabel: string, yLabel: string, yRange?: [number, number], height?: number, hooks?: any, integerX?: boolean }} spec
 */
function lineChart(container, spec) {
  return mountChart(
    container,
    {
      height: spec.height,
      legend: { show: true, live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: spec.yRange ? { range: () => spec.yRange } : {} },
      axes: [
        { ...AXIS, label: spec.xLabel, incrs: spec.integerX ? INTEGER_INCREMENTS : undefined },
        { ...AXIS, label: spec.yLabel, size: 60 },
      ],
      series: [
        { label: spec.xLabel },
        ...spec.series.map((s) =>
          s.pointsOnly
            ? { label: s.label, stroke: s.color, fill: s.color, paths: () => null, points: { show: true, size: 7, stroke: s.color, fill: s.color } }
            : { label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash, spanGaps: true, points: { show: false } },
        ),
      ],
      hooks: spec.hooks,
    },
    [spec.x, ...spec.series.map((s) => s.values)],
  );
}
