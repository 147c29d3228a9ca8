// @ts-check
// DOM helpers. Data only ever reaches the page through textContent and attribute setters, never
// through innerHTML, so sample text cannot become markup.

/**
 * @param {string} tag
 * @param {Record<string, any> | null} [props] className, textContent, data-, aria- and other attributes, on-handlers
 * @param {(Node | string | null | undefined | false)[]} [children]
 * @returns {HTMLElement}
 */
function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children || []) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** @param {Element} node @param {(Node | string | null | undefined | false)[]} children */
function replaceChildren(node, children) {
  node.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'string' ? document.createTextNode(c) : /** @type {Node} */ (c))));
}

const INTEGER = new Intl.NumberFormat('en-US');

/** @param {number} n */
function fmtInt(n) {
  return INTEGER.format(n);
}

/** @param {number | null | undefined} x @param {number} [digits] */
function fmtNum(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

/** Raw scores span many orders of magnitude: 4 significant digits. @param {number} x */
function fmtRaw(x) {
  if (!Number.isFinite(x)) return '–';
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(3);
  return x.toPrecision(4);
}

/** @param {number | null | undefined} x @param {number} [digits] */
function fmtPct(x, digits = 1) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(digits)}%`;
}

/** Makes whitespace in a token visible. @param {string} token */
function visibleToken(token) {
  return token.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** @param {string} text @param {number} max */
function snippet(text, max) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
