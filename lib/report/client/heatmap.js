// @ts-check
// Token heatmaps: the region text with every token coloured by one score, flagged spans outlined,
// and a tooltip (mouse or keyboard) with the token's raw and normalised scores.

/** @type {WeakMap<Element, {sample: SampleData, nodeOf: HTMLElement[]}>} */
const heatmapSources = new WeakMap();

/** Index of the flagged span containing character `pos`, or -1. @param {[number, number][]} spans @param {number} pos */
function spanAt(spans, pos) {
  for (let k = 0; k < spans.length; k++) if (spans[k][0] <= pos && pos < spans[k][1]) return k;
  return -1;
}

/** A span without the whitespace at its ends, so outlines hug the words. @param {string} text @param {[number, number]} span @returns {[number, number]} */
function trimSpan(text, [start, end]) {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  return [start, end];
}

/**
 * Renders `s.text` with its tokens coloured by `scale`. A token's leading and trailing whitespace
 * stays uncoloured, so words read as chips; whitespace-only tokens stay uncoloured but hoverable.
 * Tokens whose characters were already shown (byte-level pieces of one character) join the
 * previous token's element and share its tooltip.
 * @param {SampleData} s @param {ScoreScale} scale @param {{compact?: boolean, label?: string}} [options]
 */
function renderHeatmap(s, scale, options = {}) {
  const root = el('div', { className: options.compact ? 'heatmap compact' : 'heatmap', tabindex: '0', role: 'group', 'aria-label': options.label || scale.label });
  /** @type {HTMLElement[]} token index -> the element showing it */
  const nodeOf = [];
  heatmapSources.set(root, { sample: s, nodeOf });
  const spans = s.spans.map((span) => trimSpan(s.text, span));
  /** @type {HTMLElement} */
  let parent = root;
  let openSpan = -1;
  /** @param {number} pos @param {string | Node} piece */
  const put = (pos, piece) => {
    const k = spanAt(spans, pos);
    if (k !== openSpan) {
      openSpan = k;
      parent = k < 0 ? root : root.appendChild(el('mark', { className: 'flag' }));
    }
    parent.append(piece);
  };
  /** @type {{node: HTMLElement, tokens: number[]} | null} */
  let last = null;
  /** @type {{node: HTMLElement, tokens: number[]}[]} */
  const groups = [];
  let cursor = 0;
  for (let i = 0; i < s.count; i++) {
    if (s.start[i] > cursor) {
      put(cursor, s.text.slice(cursor, s.start[i]));
      cursor = s.start[i];
    }
    const from = Math.max(cursor, s.start[i]);
    if (from >= s.end[i] && last) {
      last.tokens.push(i);
      nodeOf[i] = last.node;
      continue;
    }
    const visible = from < s.end[i] ? s.text.slice(from, s.end[i]) : s.tokens[i];
    const [, lead, core, trail] = /** @type {RegExpMatchArray} */ (visible.match(/^(\s*)([\s\S]*?)(\s*)$/));
    const node = el('span', { className: core ? 'tok' : 'tok ws', text: core || visible });
    if (core && lead) put(from, lead);
    put(from + (core ? lead.length : 0), node);
    if (core && trail) put(from + lead.length + core.length, trail);
    nodeOf[i] = node;
    last = { node, tokens: [i] };
    groups.push(last);
    cursor = Math.max(cursor, s.end[i]);
  }
  if (cursor < s.text.length) put(cursor, s.text.slice(cursor));
  for (const { node, tokens } of groups) {
    node.dataset.t = tokens.join(',');
    if (node.classList.contains('ws')) continue;
    const value = tokens.reduce((sum, i) => sum + scale.value(s, i), 0) / tokens.length;
    const rgb = scaleColor(scale, value);
    node.style.backgroundColor = rgbCss(rgb);
    node.style.color = inkFor(rgb);
  }
  return root;
}

/** Marks token `i` of a heatmap as the cursor (from the score chart), or clears it. @param {Element} root @param {number | null} i */
function setHeatmapCursor(root, i) {
  const source = heatmapSources.get(root);
  if (!source) return;
  root.querySelector('.tok.cursor')?.classList.remove('cursor');
  if (i !== null && source.nodeOf[i]) source.nodeOf[i].classList.add('cursor');
}

/** @param {ScoreScale} scale @param {number | null} [threshold] */
function renderLegend(scale, threshold) {
  const [lo, hi] = scale.domain;
  const ramp = el('div', { className: 'ramp' });
  ramp.style.background = scaleGradient(scale);
  return el('div', { className: 'legend' }, [
    el('div', { className: 'scale' }, [
      el('span', { text: scale.low }),
      ramp,
      el('span', { text: scale.high }),
      el('div', { className: 'ticks' }, [el('span', { text: fmtNum(lo, 1) }), el('span', { text: fmtNum((lo + hi) / 2, 1) }), el('span', { text: fmtNum(hi, 1) })]),
    ]),
    el('span', { text: scale.label }),
    el('span', { className: 'flag-key' }, [el('i'), 'flagged span']),
    threshold !== null && threshold !== undefined ? el('span', { text: `flagged when Δ ≤ τ = ${fmtNum(threshold)}` }) : null,
  ]);
}

const tooltip = {
  /** @type {HTMLElement | null} */
  node: null,
  /** @param {Element} tokenNode */
  show(tokenNode) {
    const root = tokenNode.closest('.heatmap');
    const source = root && heatmapSources.get(root);
    if (!source || !this.node) return;
    const { sample: s } = source;
    const indices = (/** @type {HTMLElement} */ (tokenNode).dataset.t || '').split(',').map(Number);
    const body = [];
    for (const i of indices) {
      body.push(
        el('div', null, [
          el('span', { className: 'tt-token', text: visibleToken(s.tokens[i]) }),
          ` token ${i + 1} of ${s.count}`,
          s.flagged[i] ? el('span', { className: 'tt-flag', text: 'flagged' }) : null,
        ]),
        el('table', null, [
          el('tr', null, [el('th', { text: '' }), el('th', { text: 'raw' }), el('th', { text: 'normalised' })]),
          el('tr', null, [el('th', { text: 'teacher' }), el('td', { text: fmtRaw(s.teacherRaw[i]) }), el('td', { text: fmtNum(s.teacherNorm[i]) })]),
          el('tr', null, [el('th', { text: 'student' }), el('td', { text: fmtRaw(s.studentRaw[i]) }), el('td', { text: fmtNum(s.studentNorm[i]) })]),
          el('tr', null, [el('th', { text: 'Δ' }), el('td', { text: '' }), el('td', { text: fmtNum(s.delta[i]) })]),
        ]),
      );
    }
    replaceChildren(this.node, body);
    this.node.hidden = false;
    const rect = tokenNode.getBoundingClientRect();
    const box = this.node.getBoundingClientRect();
    const left = Math.min(window.innerWidth - box.width - 8, Math.max(8, rect.left));
    const below = rect.bottom + 8 + box.height < window.innerHeight;
    this.node.style.left = `${left}px`;
    this.node.style.top = `${below ? rect.bottom + 6 : rect.top - box.height - 6}px`;
  },
  hide() {
    if (this.node) this.node.hidden = true;
  },
};

/** Hover and keyboard handling for every heatmap on the page (delegated, so re-renders need no wiring). */
function installHeatmapEvents() {
  tooltip.node = document.getElementById('tooltip');
  document.addEventListener('mouseover', (event) => {
    const target = /** @type {Element} */ (event.target);
    const tok = target instanceof Element ? target.closest('.heatmap .tok') : null;
    if (tok) tooltip.show(tok);
    else tooltip.hide();
  });
  document.addEventListener('scroll', () => tooltip.hide(), true);
  document.addEventListener('keydown', (event) => {
    const root = /** @type {Element} */ (event.target);
    if (!(root instanceof HTMLElement) || !root.classList.contains('heatmap')) return;
    const tokens = Array.from(root.querySelectorAll('.tok'));
    if (!tokens.length) return;
    const current = tokens.findIndex((t) => t.classList.contains('cursor'));
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: tokens.length - 1 };
    if (event.key === 'Escape') {
      tokens[current]?.classList.remove('cursor');
      tooltip.hide();
      return;
    }
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();
    const next = Math.min(tokens.length - 1, Math.max(0, /** @type {any} */ (moves)[event.key]));
    tokens[current]?.classList.remove('cursor');
    tokens[next].classList.add('cursor');
    tokens[next].scrollIntoView({ block: 'nearest' });
    tooltip.show(tokens[next]);
  });
  document.addEventListener('focusout', (event) => {
    const root = /** @type {Element} */ (event.target);
    if (root instanceof HTMLElement && root.classList.contains('heatmap')) {
      root.querySelector('.tok.cursor')?.classList.remove('cursor');
      tooltip.hide();
    }
  });
}
