// @ts-check
// The sample browser: search, sort, paging and keyboard navigation over the corpus, and the detail
// view of one analysed region.

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 120;

/** @type {Record<string, {label: string, compare: ((c: Corpus, a: number, b: number) => number) | null}>} */
const SORTS = {
  corpus: { label: 'Corpus order', compare: null },
  'flagged-desc': { label: 'Flagged fraction, high → low', compare: (c, a, b) => c.flaggedFraction[b] - c.flaggedFraction[a] },
  'flagged-asc': { label: 'Flagged fraction, low → high', compare: (c, a, b) => c.flaggedFraction[a] - c.flaggedFraction[b] },
  'gap-desc': { label: 'Loss gap (student − teacher), high → low', compare: (c, a, b) => c.lossGap[b] - c.lossGap[a] },
  'gap-asc': { label: 'Loss gap (student − teacher), low → high', compare: (c, a, b) => c.lossGap[a] - c.lossGap[b] },
  id: { label: 'Id', compare: (c, a, b) => (c.ids[a] < c.ids[b] ? -1 : c.ids[a] > c.ids[b] ? 1 : 0) },
};

class SampleBrowser {
  /** @param {Corpus} corpus @param {Record<string, ScoreScale>} scales @param {{ onSelect: (r: number) => void }} hooks */
  constructor(corpus, scales, hooks) {
    this.corpus = corpus;
    this.scales = scales;
    this.hooks = hooks;
    this.query = '';
    this.sort = 'corpus';
    /** @type {{ text: string, rows: Set<number> } | null} */
    this.termFilter = null;
    this.page = 0;
    /** @type {number[]} */
    this.order = [];
    this.selected = -1;
    this.score = 'delta';
    /** @type {any} */
    this.searchTimer = 0;
    /** @type {any[]} */
    this.charts = [];

    this.search = /** @type {HTMLInputElement} */ (el('input', { className: 'search', id: 'search', type: 'search', placeholder: 'Search text or id   ( / )', 'aria-label': 'Search samples by text or id', autocomplete: 'off', spellcheck: 'false' }));
    this.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.setQuery(this.search.value), SEARCH_DELAY_MS);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        clearTimeout(this.searchTimer);
        this.setQuery(this.search.value);
        if (this.order.length) this.select(this.order[0]);
      } else if (event.key === 'Escape') this.search.blur();
    });
    this.sortSelect = /** @type {HTMLSelectElement} */ (el('select', { id: 'sort', 'aria-label': 'Sort samples' }, Object.entries(SORTS).map(([key, s]) => el('option', { value: key, text: s.label }))));
    this.sortSelect.addEventListener('change', () => this.setSort(this.sortSelect.value));
    this.filterSlot = el('div', { className: 'nav-row' });
    this.list = el('ol', { className: 'sample-list', id: 'sample-list', 'aria-label': 'Samples' });
    this.pageLabel = el('span', { id: 'page-label', 'aria-live': 'polite' });
    this.prevButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', id: 'page-prev', 'aria-label': 'Previous page  ( [ )', text: '‹ Prev', onclick: () => this.turnPage(-1) }));
    this.nextButton = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', id: 'page-next', 'aria-label': 'Next page  ( ] )', text: 'Next ›', onclick: () => this.turnPage(1) }));
    this.detail = el('article', { className: 'sample-detail stack', id: 'sample-detail', 'aria-live': 'polite' });
    this.root = el('div', { className: 'samples-layout' }, [
      el('aside', { className: 'sample-nav' }, [
        this.search,
        el('div', { className: 'nav-row' }, [this.sortSelect]),
        this.filterSlot,
        this.list,
        el('div', { className: 'pager' }, [this.prevButton, this.pageLabel, this.nextButton]),
      ]),
      this.detail,
    ]);
    this.recompute();
  }

  /** @param {string} query */
  setQuery(query) {
    if (query === this.query) return;
    this.query = query;
    this.search.value = query;
    this.page = 0;
    this.recompute();
  }

  /** @param {string} sort */
  setSort(sort) {
    this.sort = sort in SORTS ? sort : 'corpus';
    this.sortSelect.value = this.sort;
    this.page = 0;
    this.recompute();
  }

  /** Restricts the list to the regions where an overview term was flagged. @param {{ text: string, rows: number[] } | null} term */
  setTermFilter(term) {
    this.termFilter = term ? { text: term.text, rows: new Set(term.rows) } : null;
    this.page = 0;
    this.recompute();
    if (this.order.length) this.select(this.order[0]);
  }

  recompute() {
    const c = this.corpus;
    const q = this.query.trim().toLowerCase();
    const haystack = q ? c.searchable() : null;
    /** @type {number[]} */
    const order = [];
    for (let r = 0; r < c.count; r++) {
      if (this.termFilter && !this.termFilter.rows.has(r)) continue;
      if (haystack && !haystack[r].includes(q)) continue;
      order.push(r);
    }
    const compare = SORTS[this.sort].compare;
    if (compare) order.sort((a, b) => compare(c, a, b) || a - b);
    this.order = order;
    this.renderFilter();
    this.renderList();
  }

  renderFilter() {
    replaceChildren(this.filterSlot, [
      this.termFilter
        ? el('span', { className: 'chip', id: 'term-filter' }, [
            'flagged ',
            el('span', { className: 'term', text: this.termFilter.text }),
            el('button', { type: 'button', 'aria-label': 'Clear the flagged-term filter', text: '×', onclick: () => this.setTermFilter(null) }),
          ])
        : null,
    ]);
  }

  pageCount() {
    return Math.max(1, Math.ceil(this.order.length / PAGE_SIZE));
  }

  /** @param {number} step */
  turnPage(step) {
    const page = Math.min(this.pageCount() - 1, Math.max(0, this.page + step));
    if (page === this.page) return;
    this.page = page;
    this.renderList();
    const first = this.order[this.page * PAGE_SIZE];
    if (first !== undefined) this.select(first);
  }

  renderList() {
    const c = this.corpus;
    const from = this.page * PAGE_SIZE;
    const rows = this.order.slice(from, from + PAGE_SIZE);
    replaceChildren(this.list, rows.length ? rows.map((r) => {
      const fill = el('span');
      fill.style.width = `${Math.round(c.flaggedFraction[r] * 100)}%`;
      return el('li', null, [
        el('button', { type: 'button', className: 'sample-item', 'data-row': r, 'aria-current': r === this.selected ? 'true' : 'false', onclick: () => this.select(r) }, [
          el('span', { className: 'sid', text: c.ids[r] }),
          el('span', { className: 'frac' }, [el('span', { className: 'bar' }, [fill]), fmtPct(c.flaggedFraction[r], 0)]),
          el('span', { className: 'snippet', text: `${c.regions[r] === 'instruction' ? '' : `[${c.regions[r]}] `}${snippet(c.texts[r], 120)}` }),
        ]),
      ]);
    }) : [el('li', { className: 'empty', text: '  No sample matches.' })]);
    const total = this.order.length;
    this.pageLabel.textContent = total ? `${fmtInt(from + 1)}–${fmtInt(Math.min(total, from + PAGE_SIZE))} of ${fmtInt(total)}` : '0 of 0';
    this.prevButton.disabled = this.page === 0;
    this.nextButton.disabled = this.page >= this.pageCount() - 1;
  }

  /** Moves the selection through the current order, across pages. @param {number} step */
  step(step) {
    const at = this.order.indexOf(this.selected);
    const next = this.order[Math.min(this.order.length - 1, Math.max(0, at < 0 ? 0 : at + step))];
    if (next !== undefined) this.select(next);
  }

  /** @param {number} r */
  select(r) {
    this.selected = r;
    const at = this.order.indexOf(r);
    if (at >= 0 && Math.floor(at / PAGE_SIZE) !== this.page) {
      this.page = Math.floor(at / PAGE_SIZE);
      this.renderList();
    }
    for (const item of this.list.querySelectorAll('.sample-item')) {
      const current = Number(/** @type {HTMLElement} */ (item).dataset.row) === r;
      item.setAttribute('aria-current', current ? 'true' : 'false');
      if (current) item.scrollIntoView({ block: 'nearest' });
    }
    this.renderDetail();
    this.hooks.onSelect(r);
  }

  /** @param {string} score */
  setScore(score) {
    if (!(score in this.scales) || score === this.score) return;
    this.score = score;
    if (this.selected >= 0) {
      this.renderDetail();
      this.hooks.onSelect(this.selected);
    }
  }

  renderDetail() {
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    const c = this.corpus;
    const r = this.selected;
    if (r < 0) {
      replaceChildren(this.detail, [el('p', { className: 'empty', text: 'Select a sample.' })]);
      return;
    }
    const s = c.sample(r);
    const scale = this.scales[this.score];
    const flaggedCount = s.flagged.reduce((a, b) => a + b, 0);
    const cfs = c.counterfactuals.get(r) || [];

    const head = el('section', { className: 'panel' }, [
      el('div', { className: 'sample-head' }, [
        el('span', { className: 'sid', id: 'sample-id', text: s.id }),
        el('span', { className: 'badge', text: s.region }),
        cfs.length ? el('span', { className: 'badge', text: `${cfs.length} counterfactual${cfs.length > 1 ? 's' : ''}` }) : null,
      ]),
      el('div', { className: 'stats-row' }, [
        el('span', null, [el('b', { text: fmtInt(s.count) }), ' tokens']),
        el('span', null, [el('b', { text: fmtInt(flaggedCount) }), ` flagged (${fmtPct(c.flaggedFraction[r])})`]),
        el('span', null, [el('b', { text: fmtInt(s.spans.length) }), ' spans']),
        el('span', null, ['teacher loss ', el('b', { text: fmtNum(s.teacherLoss) })]),
        el('span', null, ['student loss ', el('b', { text: fmtNum(s.studentLoss) })]),
        el('span', null, ['gap ', el('b', { text: fmtNum(c.lossGap[r]) })]),
        el('span', null, ['τ ', el('b', { text: fmtNum(s.threshold) })]),
      ]),
    ]);

    const buttons = Object.values(this.scales).map((sc) =>
      el('button', { type: 'button', 'data-score': sc.key, 'aria-pressed': sc.key === this.score ? 'true' : 'false', text: { delta: 'Δ', teacher: 'Teacher', student: 'Student' }[sc.key] || sc.key, onclick: () => this.setScore(sc.key) }),
    );
    const heatmap = renderHeatmap(s, scale, { label: `${scale.label} of sample ${s.id}` });
    heatmap.id = 'heatmap';
    const figure = el('figure', { className: 'heatmap-figure', id: 'heatmap-figure' }, [heatmap, renderLegend(scale, this.score === 'delta' ? s.threshold : null)]);
    const main = el('section', { className: 'panel' }, [
      el('div', { className: 'toolbar' }, [
        el('div', { className: 'segmented', role: 'group', 'aria-label': 'Colour tokens by (d, t, s)' }, buttons),
        el('span', { className: 'note', text: 'Hover a token for its scores; focus the text and use ← → to step through tokens.' }),
      ]),
      figure,
    ]);

    const teacherScale = this.scales.teacher;
    const studentScale = this.scales.student;
    const compare = el('section', { className: 'panel' }, [
      el('h2', { text: 'Teacher vs student' }),
      el('div', { className: 'compare' }, [
        el('div', { id: 'compare-teacher' }, [el('h3', { text: 'Teacher' }), renderHeatmap(s, teacherScale, { compact: true, label: `teacher sensitivity of sample ${s.id}` }), renderLegend(teacherScale, null)]),
        el('div', { id: 'compare-student' }, [el('h3', { text: 'Student' }), renderHeatmap(s, studentScale, { compact: true, label: `student sensitivity of sample ${s.id}` }), renderLegend(studentScale, null)]),
      ]),
    ]);

    const chartBox = el('div', { className: 'chart' });
    const profile = el('section', { className: 'panel' }, [el('div', { className: 'chart-title' }, [el('h2', { text: 'Score profile' }), el('span', { className: 'hint', text: 'token index on x; drag to zoom, double-click to reset' })]), chartBox]);

    replaceChildren(this.detail, [head, main, compare, s.count > 0 ? profile : null, cfs.length ? this.renderCounterfactuals(s, cfs) : null]);

    if (s.count > 0) {
      const x = Array.from({ length: s.count }, (_, i) => i + 1);
      this.charts.push(
        lineChart(chartBox, {
          x,
          xLabel: 'token',
          yLabel: 'score',
          height: 200,
          integerX: true,
          series: [
            { label: 'teacher', values: Array.from(s.teacherNorm), color: SERIES_COLORS[0] },
            { label: 'student', values: Array.from(s.studentNorm), color: SERIES_COLORS[1] },
            { label: 'Δ', values: Array.from(s.delta), color: '#444', width: 1.2 },
            { label: 'τ', values: x.map(() => s.threshold), color: SERIES_COLORS[5], dash: [5, 4], width: 1 },
            { label: 'flagged', values: Array.from(s.delta, (d, i) => (s.flagged[i] ? d : null)), color: SERIES_COLORS[5], pointsOnly: true },
          ],
          hooks: { setCursor: [(/** @type {any} */ u) => setHeatmapCursor(heatmap, u.cursor.idx === null || u.cursor.idx === undefined ? null : u.cursor.idx)] },
        }),
      );
    }
  }

  /** @param {SampleData} s @param {any[]} cfs */
  renderCounterfactuals(s, cfs) {
    return el('section', { className: 'panel', id: 'counterfactuals' }, [
      el('h2', { text: `Counterfactuals (${cfs.length})` }),
      ...cfs.map((cf) => {
        const text = cf.text === null ? s.text : cf.text;
        /** @type {(Node | string)[]} */
        const parts = [];
        let at = 0;
        for (const [start, end] of cf.spans) {
          if (start > at) parts.push(text.slice(at, start));
          parts.push(el('del', { text: text.slice(Math.max(at, start), end) }));
          at = Math.max(at, end);
        }
        parts.push(text.slice(at));
        const verdict = cf.verified === null ? el('span', { className: 'badge', text: 'not verified' }) : cf.verified ? el('span', { className: 'badge good', text: '✓ verified: both models correct' }) : el('span', { className: 'badge bad', text: '✗ failed verification' });
        return el('div', { className: 'cf' }, [
          el('div', { className: 'cf-head' }, [el('span', { className: 'term', text: cf.id }), el('span', { text: `${cf.mode} · ${fmtInt(cf.removedChars)} characters removed` }), verdict]),
          el('div', { className: 'cf-text' }, parts),
          cf.answer || cf.teacherAnswer !== undefined || cf.studentAnswer !== undefined
            ? el('div', { className: 'answers' }, [
                cf.answer ? el('span', null, ['gold answer ', el('code', { text: cf.answer })]) : null,
                cf.teacherAnswer !== undefined ? el('span', null, ['teacher ', el('code', { text: cf.teacherAnswer })]) : null,
                cf.studentAnswer !== undefined ? el('span', null, ['student ', el('code', { text: cf.studentAnswer })]) : null,
              ])
            : null,
        ]);
      }),
    ]);
  }
}
