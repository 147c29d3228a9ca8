// @ts-check
// The corpus view: counts, distributions, the most-flagged tokens and n-grams, pruning rates.

/** @param {string} label @param {string} value @param {string} [sub] */
function card(label, value, sub) {
  return el('div', { className: 'card' }, [el('div', { className: 'label', text: label }), el('div', { className: 'value', text: value }), sub ? el('div', { className: 'sub', text: sub }) : null]);
}

/** @param {string} key */
function humanize(key) {
  const text = key.replace(/[_-]+/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** @param {string} title @param {(HTMLElement | null)[]} body @param {string} [hint] */
function panel(title, body, hint) {
  return el('section', { className: 'panel' }, [el('div', { className: 'chart-title' }, [el('h2', { text: title }), hint ? el('span', { className: 'hint', text: hint }) : null]), ...body]);
}

/** Manifest counts that say how many samples or rows there are: one card shows them, with what differs. */
const SAMPLE_COUNT_KEYS = ['done', 'samples', 'records', 'rows', 'skipped'];

/**
 * The Samples card (and Skipped, when any were): the manifest's done / samples / records / rows
 * usually all equal the number of samples, so each count is shown once and only differences are
 * spelled out. Other manifest counts (step-specific) get a card each.
 * @param {number} samples @param {number} regions @param {[string, number | string][]} counts
 */
function sampleCards(samples, regions, counts) {
  const count = (/** @type {string} */ key) => {
    const entry = counts.find(([k]) => k === key);
    return entry && typeof entry[1] === 'number' ? entry[1] : null;
  };
  const records = count('records');
  const skipped = count('skipped');
  const differences = [];
  if (records !== null && records !== samples) differences.push(`of ${fmtInt(records)} records`);
  if (regions !== samples) differences.push(`${fmtInt(regions)} analysed regions`);
  const cards = [card('Samples', fmtInt(samples), differences.join(', ') || (records !== null ? 'every record analysed' : 'analysed'))];
  if (skipped) cards.push(card('Skipped', fmtInt(skipped), 'see the reasons below'));
  for (const [key, value] of counts)
    if (!SAMPLE_COUNT_KEYS.includes(key)) cards.push(card(humanize(key), typeof value === 'number' ? fmtInt(value) : String(value), 'from manifest'));
  return cards;
}

/**
 * @param {Corpus} corpus
 * @param {{ showTerm: (term: any) => void }} actions
 * @returns {{ root: HTMLElement, mountCharts: () => void }}
 */
function renderOverview(corpus, actions) {
  const h = corpus.header;
  const stats = h.corpus;
  const cards = [
    ...sampleCards(new Set(corpus.ids).size, stats.rows, (h.manifest && h.manifest.counts) || []),
    card('Tokens', fmtInt(stats.tokens), `${fmtNum(stats.tokens / Math.max(1, stats.rows), 1)} per region`),
    card('Flagged tokens', fmtInt(stats.flaggedTokens), `${fmtPct(stats.flaggedTokens / Math.max(1, stats.tokens))} of tokens`),
    card('Flagged spans', fmtInt(stats.spans), `${fmtNum(stats.spans / Math.max(1, stats.rows), 2)} per region`),
    card('Regions with flags', fmtInt(stats.rowsWithFlags), fmtPct(stats.rowsWithFlags / Math.max(1, stats.rows))),
  ];
  if (h.prune) cards.push(card('Counterfactuals', fmtInt(h.prune.counterfactuals), `from ${fmtInt(h.prune.sources)} samples`));

  const skip = h.manifest && h.manifest.skipReasons.length
    ? panel('Skipped samples', [
        el('table', { className: 'data' }, [
          el('thead', null, [el('tr', null, [el('th', { text: 'Reason' }), el('th', { className: 'num', text: 'Samples' }), el('th', { text: 'Examples' })])]),
          el('tbody', null, h.manifest.skipReasons.map((/** @type {any} */ r) => el('tr', null, [el('td', { text: r.reason }), el('td', { className: 'num', text: fmtInt(r.count) }), el('td', null, [el('span', { className: 'term', text: r.examples.join(', ') })])]))),
        ]),
      ])
    : null;

  const deltaChart = el('div', { className: 'chart', id: 'chart-delta' });
  const fractionChart = el('div', { className: 'chart', id: 'chart-fraction' });
  const spanChart = el('div', { className: 'chart', id: 'chart-spans' });
  const meanThreshold = corpus.count ? Array.from(corpus.c.threshold).reduce((a, b) => a + b, 0) / corpus.count : null;

  const charts = el('div', { className: 'grid three' }, [
    panel('Δ per token', [deltaChart, el('p', { className: 'note', text: `All ${fmtInt(stats.tokens)} tokens. Low Δ: the student is more sensitive than the teacher. Mean threshold τ = ${fmtNum(meanThreshold)}.` })]),
    panel('Flagged fraction per region', [fractionChart, el('p', { className: 'note', text: 'Share of a region’s tokens that were flagged.' })]),
    panel('Span length', [spanChart, el('p', { className: 'note', text: 'Non-whitespace tokens per flagged span (last bar: that many or more).' })]),
  ]);

  const terms = el('div', { className: 'grid two' }, [
    panel('Most flagged tokens', [termTable(corpus, stats.topTokens, 'Token', actions)], 'click a count to list its samples'),
    panel('Most flagged n-grams', [termTable(corpus, stats.topNgrams, 'n-gram (inside one span)', actions)], 'n = 2, 3'),
  ]);

  const root = el('div', { className: 'stack' }, [
    el('div', { className: 'cards' }, cards),
    skip,
    charts,
    h.prune ? prunePanel(h.prune) : null,
    terms,
    h.manifest && h.manifest.details.length ? detailsPanel(h.manifest.details) : null,
  ]);

  const mountCharts = () => {
    const dh = stats.deltaHistogram;
    const dw = (dh.hi - dh.lo) / dh.counts.length;
    barChart(deltaChart, { x: dh.counts.map((/** @type {number} */ _c, /** @type {number} */ i) => dh.lo + dw * (i + 0.5)), counts: dh.counts, xLabel: 'Δ', color: '#4393c3', fmtX: (v) => v.toFixed(2) });
    const fh = stats.flaggedFractionHistogram;
    const fw = (fh.hi - fh.lo) / fh.counts.length;
    barChart(fractionChart, { x: fh.counts.map((/** @type {number} */ _c, /** @type {number} */ i) => fh.lo + fw * (i + 0.5)), counts: fh.counts, xLabel: 'flagged fraction', yLabel: 'regions', color: '#e08214', fmtX: (v) => fmtPct(v, 0) });
    barChart(spanChart, { x: stats.spanTokenCounts.map((/** @type {number} */ _c, /** @type {number} */ i) => i + 1), counts: stats.spanTokenCounts, xLabel: 'tokens per span', yLabel: 'spans', color: '#009E73', fmtX: (v) => (Number.isInteger(v) ? String(v) : '') });
  };
  return { root, mountCharts };
}

/** @param {Corpus} corpus @param {any[]} terms @param {string} heading @param {{ showTerm: (term: any) => void }} actions */
function termTable(corpus, terms, heading, actions) {
  if (!terms.length) return el('p', { className: 'empty', text: 'Nothing was flagged.' });
  return el('table', { className: 'data' }, [
    el('thead', null, [el('tr', null, [el('th', { text: heading }), el('th', { className: 'num', text: 'Times flagged' }), el('th', { className: 'num', text: 'Regions' })])]),
    el('tbody', null, terms.map((term) =>
      el('tr', null, [
        el('td', null, [el('span', { className: 'term', text: term.text })]),
        el('td', { className: 'num', text: fmtInt(term.count) }),
        el('td', { className: 'num' }, [el('button', { className: 'linkish', type: 'button', text: fmtInt(term.rows), 'aria-label': `show the ${term.rows} regions where ${term.text} was flagged`, onclick: () => actions.showTerm(term) })]),
      ]),
    )),
  ]);
}

/** @param {any} p */
function prunePanel(p) {
  const rows = [
    ['Counterfactuals written', fmtInt(p.counterfactuals)],
    ['Originals', fmtInt(p.originals)],
    ['Samples with a counterfactual', fmtInt(p.sources)],
    ['Pruning modes', p.modes.join(', ') || '–'],
    ['Characters removed (mean / p50 / p95)', p.removedChars ? `${fmtNum(p.removedChars.mean, 1)} / ${p.removedChars.p50} / ${p.removedChars.p95}` : '–'],
    ['Verified counterfactuals', p.verified ? `${fmtInt(p.passed)} of ${fmtInt(p.verified)} passed` : 'not verified'],
    ['Verification pass rate', fmtPct(p.passRate)],
    ['Flip rate (student wrong → right)', fmtPct(p.flipRate)],
  ];
  return panel('Pruning and verification', [el('table', { className: 'data' }, [el('tbody', null, rows.map(([k, v]) => el('tr', null, [el('td', { text: k }), el('td', { className: 'num', text: v })])))])]);
}

/** @param {[string, string][]} details */
function detailsPanel(details) {
  return el('section', { className: 'panel' }, [
    el('details', null, [
      el('summary', { text: 'Analysis run details (manifest)' }),
      el('dl', { className: 'kv' }, details.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })])),
    ]),
  ]);
}
