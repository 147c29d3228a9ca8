// @ts-check
// Boot: inflate the data, build the views, route between them (location.hash) and handle keys.
// URL forms: #overview, #samples, #training, #sample=<id>[&score=delta|teacher|student].

/** @param {unknown} error */
function showFatal(error) {
  const main = document.getElementById('app');
  if (main) replaceChildren(main, [el('div', { className: 'fatal panel' }, [el('h2', { text: 'This report could not be opened' }), el('p', { text: error instanceof Error ? error.message : String(error) })])]);
  document.documentElement.dataset.error = 'true';
  console.error(error);
}

/** @param {string} hash */
function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  return { view: params.has('sample') ? 'samples' : hash.replace(/^#/, '').split('&')[0], sample: params.get('sample'), score: params.get('score') };
}

async function boot() {
  performance.mark('leaf:start');
  const source = document.getElementById('leaf-data');
  if (!source || !source.textContent) throw new Error('the report data is missing');
  const payload = await decodePayload(source.textContent.trim());
  performance.mark('leaf:inflated');
  const corpus = new Corpus(payload);
  performance.mark('leaf:indexed');
  const h = corpus.header;
  const scales = scoreScales(h.corpus.deltaDomain);

  document.title = `${h.title} · leaf`;
  const titleNode = document.getElementById('title');
  if (titleNode) titleNode.textContent = h.title;
  const metaNode = document.getElementById('meta');
  if (metaNode) metaNode.textContent = `${fmtInt(corpus.count)} regions${h.generatedAt ? ` · generated ${h.generatedAt}` : ''}`;

  const main = /** @type {HTMLElement} */ (document.getElementById('app'));
  main.replaceChildren();
  const tabs = /** @type {HTMLElement} */ (document.getElementById('tabs'));
  /** @type {Record<string, {panel: HTMLElement, tab: HTMLElement, mount: (() => void) | null}>} */
  const views = {};
  let current = '';

  const browser = new SampleBrowser(corpus, scales, {
    onSelect: (r) => {
      if (current === 'samples') {
        const score = browser.score === 'delta' ? '' : `&score=${browser.score}`;
        history.replaceState(null, '', `#sample=${encodeURIComponent(corpus.ids[r])}${score}`);
      }
    },
  });
  const overview = renderOverview(corpus, {
    showTerm: (term) => {
      showView('samples');
      browser.setTermFilter({ text: term.text, rows: corpus.termRows(term) });
    },
  });
  const training = h.runs.length ? renderTraining(h.runs) : null;

  /** @param {string} key @param {string} label @param {HTMLElement} content @param {(() => void) | null} mount */
  const addView = (key, label, content, mount) => {
    const panel = el('section', { className: 'view', id: `view-${key}`, role: 'tabpanel', 'aria-labelledby': `tab-${key}`, hidden: true }, [content]);
    const tab = el('button', { className: 'tab', id: `tab-${key}`, type: 'button', role: 'tab', 'aria-selected': 'false', 'aria-controls': `view-${key}`, text: label, onclick: () => showView(key) });
    main.append(panel);
    tabs.append(tab);
    views[key] = { panel, tab, mount };
  };
  addView('overview', 'Overview', overview.root, overview.mountCharts);
  addView('samples', 'Samples', browser.root, null);
  if (training) addView('training', 'Training', training.root, training.mountCharts);

  /** @param {string} key @param {boolean} [autoSelect] select the first sample when none is */
  function showView(key, autoSelect = true) {
    if (!views[key]) key = 'overview';
    if (key === current) return;
    current = key;
    for (const [name, view] of Object.entries(views)) {
      view.panel.hidden = name !== key;
      view.tab.setAttribute('aria-selected', name === key ? 'true' : 'false');
    }
    const view = views[key];
    if (view.mount) {
      view.mount();
      view.mount = null;
    }
    if (key === 'samples' && browser.selected < 0 && browser.order.length && autoSelect) browser.select(browser.order[0]);
    else if (key === 'samples' && browser.selected >= 0) browser.hooks.onSelect(browser.selected);
    else history.replaceState(null, '', `#${key}`);
  }

  const route = () => {
    const { view, sample, score } = parseHash(location.hash);
    if (score) browser.setScore(score);
    if (sample !== null) {
      const r = corpus.rowOf(sample);
      showView('samples', false);
      if (r >= 0) browser.select(r);
      else replaceChildren(browser.detail, [el('p', { className: 'empty', text: `No sample with id ${sample}.` })]);
    } else showView(view || 'overview');
  };
  window.addEventListener('hashchange', route);
  route();
  performance.mark('leaf:rendered');

  installHeatmapEvents();
  installKeys({ showView, browser, views });
}

/** @param {{ showView: (key: string) => void, browser: SampleBrowser, views: Record<string, any> }} app */
function installKeys({ showView, browser, views }) {
  const help = /** @type {HTMLDialogElement} */ (document.getElementById('help'));
  document.getElementById('help-button')?.addEventListener('click', () => help.showModal());
  const tabKeys = Object.keys(views);
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('input, select, textarea, dialog')) return;
    const inList = !!target.closest('#sample-list');
    const key = event.key;
    /** @type {(() => void) | undefined} */
    let action;
    if (key === '/') action = () => { showView('samples'); browser.search.focus(); browser.search.select(); };
    else if (key === '?') action = () => help.showModal();
    else if (/^[1-9]$/.test(key) && tabKeys[Number(key) - 1]) action = () => showView(tabKeys[Number(key) - 1]);
    else if (key === 'j' || (inList && key === 'ArrowDown')) action = () => { showView('samples'); browser.step(1); focusSelected(browser); };
    else if (key === 'k' || (inList && key === 'ArrowUp')) action = () => { showView('samples'); browser.step(-1); focusSelected(browser); };
    else if (key === ']') action = () => { showView('samples'); browser.turnPage(1); };
    else if (key === '[') action = () => { showView('samples'); browser.turnPage(-1); };
    else if (key === 'd' || key === 't' || key === 's') action = () => browser.setScore({ d: 'delta', t: 'teacher', s: 'student' }[key]);
    if (!action) return;
    event.preventDefault();
    action();
  });
}

/** Keeps keyboard focus on the selected list item so arrow keys continue from there. @param {SampleBrowser} browser */
function focusSelected(browser) {
  const item = browser.list.querySelector('.sample-item[aria-current="true"]');
  if (item && document.activeElement && document.activeElement.closest('#sample-list')) /** @type {HTMLElement} */ (item).focus();
}

boot()
  .then(() => requestAnimationFrame(() => { document.documentElement.dataset.ready = String(Math.round(performance.now())); }))
  .catch(showFatal);
