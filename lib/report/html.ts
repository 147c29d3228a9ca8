import { createHash } from 'node:crypto';
import { reportAssets } from './assets.ts';

/** Sequences that would end or confuse an inline <script>/<style> element if they occurred inside one. */
const RAW_TEXT_BREAKERS = /<\/(script|style)|<!--/i;

function inlineSafe(name: string, text: string): string {
  if (RAW_TEXT_BREAKERS.test(text)) throw new Error(`report: ${name} contains a sequence that cannot be inlined into HTML`);
  return text;
}

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page around a base64 payload. Nothing derived from the data is written into the markup: the
 * payload is base64 (no `<`, `&` or quotes) and the client inserts every string with textContent.
 * The Content-Security-Policy allows exactly the two inline scripts (by hash) and no network access
 * of any kind, so even a rendering bug could not run injected script or fetch anything.
 */
export function renderHtml(payloadBase64: string): string {
  if (!/^[A-Za-z0-9+/=]*$/.test(payloadBase64)) throw new Error('report: payload is not base64');
  const assets = reportAssets();
  const uplot = inlineSafe('uPlot', assets.uplotScript);
  const client = inlineSafe('client script', assets.clientScript);
  const styles = inlineSafe('styles', `${assets.uplotStyles}\n${assets.clientStyles}`);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(uplot)} ${sha256(client)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="leaf report">
<title>leaf report</title>
<style>
${styles}
</style>
</head>
<body>
<header class="topbar">
  <div class="brand"><span class="logo">leaf</span><span class="title" id="title">report</span></div>
  <nav class="tabs" id="tabs" role="tablist" aria-label="Views"></nav>
  <span class="meta" id="meta"></span>
  <button type="button" class="help-button" id="help-button" aria-label="Keyboard shortcuts">?</button>
</header>
<main id="app"><p class="empty">Loading…</p></main>
<div id="tooltip" role="tooltip" hidden></div>
<dialog id="help" aria-labelledby="help-title">
  <h2 id="help-title">Keyboard</h2>
  <table>
    <tr><td><kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd></td><td>Overview, samples, training</td></tr>
    <tr><td><kbd>/</kbd></td><td>Search samples by text or id</td></tr>
    <tr><td><kbd>j</kbd> <kbd>k</kbd></td><td>Next / previous sample (also <kbd>↓</kbd> <kbd>↑</kbd> in the list)</td></tr>
    <tr><td><kbd>[</kbd> <kbd>]</kbd></td><td>Previous / next page</td></tr>
    <tr><td><kbd>d</kbd> <kbd>t</kbd> <kbd>s</kbd></td><td>Colour by Δ, teacher, student</td></tr>
    <tr><td><kbd>←</kbd> <kbd>→</kbd></td><td>Step through tokens of the focused text</td></tr>
    <tr><td><kbd>?</kbd></td><td>This help</td></tr>
  </table>
  <form method="dialog"><button type="submit">Close</button></form>
</dialog>
<script type="application/octet-stream" id="leaf-data" data-encoding="gzip+base64">${payloadBase64}</script>
<script>${uplot}</script>
<script>${client}</script>
</body>
</html>
`;
}
