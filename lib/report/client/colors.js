// @ts-check
// Colour scales. Both are ColorBrewer schemes marked colour-blind safe, with luminance monotone in
// the score, so the order stays readable in greyscale and for every common colour-vision deficiency.

/** Sequential, for teacher / student normalised scores: YlGnBu (light = low, dark blue = high). */
const SEQUENTIAL = ['#ffffd9', '#edf8b1', '#c7e9b4', '#7fcdbb', '#41b6c4', '#1d91c0', '#225ea8', '#253494', '#081d58'];

/**
 * Diverging, for Δ = ĝ_T − ĝ_S: orange where the student is the more sensitive model (low Δ:
 * confounder candidates), blue where the teacher is (high Δ), near-white at the centre.
 * The orange half is PuOr's, the blue half RdBu's.
 */
const DIVERGING = ['#b35806', '#e08214', '#fdb863', '#fee0b6', '#f7f7f7', '#d1e5f0', '#92c5de', '#4393c3', '#2166ac'];

/** @param {string} hex @returns {[number, number, number]} */
function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Piecewise-linear interpolation between equally spaced stops (in sRGB: the stops are close
 * enough that the result is indistinguishable from a perceptual interpolation).
 * @param {string[]} stops @param {number} t in [0, 1]
 * @returns {[number, number, number]}
 */
function rampColor(stops, t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexRgb(stops[i]);
  const b = hexRgb(stops[i + 1]);
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** @param {[number, number, number]} rgb */
function rgbCss([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;
}

/** WCAG relative luminance. @param {[number, number, number]} rgb */
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white, whichever contrasts more with the background. @param {[number, number, number]} rgb */
function inkFor(rgb) {
  const l = luminance(rgb);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#111' : '#fff';
}

/**
 * @typedef {{ key: string, label: string, stops: string[], domain: [number, number], low: string, high: string,
 *             value: (s: SampleData, i: number) => number, raw: ((s: SampleData, i: number) => number) | null }} ScoreScale
 */

/** @param {[number, number]} deltaDomain @returns {Record<string, ScoreScale>} */
function scoreScales(deltaDomain) {
  return {
    delta: {
      key: 'delta', label: 'Δ = teacher − student (normalised)', stops: DIVERGING, domain: deltaDomain,
      low: 'student-sensitive (confounder candidate)', high: 'teacher-sensitive',
      value: (s, i) => s.delta[i], raw: null,
    },
    teacher: {
      key: 'teacher', label: 'Teacher sensitivity (normalised)', stops: SEQUENTIAL, domain: [0, 1],
      low: 'low', high: 'high', value: (s, i) => s.teacherNorm[i], raw: (s, i) => s.teacherRaw[i],
    },
    student: {
      key: 'student', label: 'Student sensitivity (normalised)', stops: SEQUENTIAL, domain: [0, 1],
      low: 'low', high: 'high', value: (s, i) => s.studentNorm[i], raw: (s, i) => s.studentRaw[i],
    },
  };
}

/** @param {ScoreScale} scale @param {number} value */
function scaleColor(scale, value) {
  const [lo, hi] = scale.domain;
  return rampColor(scale.stops, (value - lo) / (hi - lo));
}

/** CSS gradient of a scale, for legends. @param {ScoreScale} scale */
function scaleGradient(scale) {
  return `linear-gradient(to right, ${scale.stops.join(', ')})`;
}

/** Okabe–Ito colours for chart series (distinguishable under all common colour-vision deficiencies). */
const SERIES_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#000000', '#F0E442'];
