// The search page of `claimsearch serve`. Everything on screen is a function
// of the URL (`/?q=…&source=…`, `/item?path=…`), so reload, back and forward
// and a shared link show the same thing. It asks only the server that served
// it: GET /search, /records and /stats. Fields the page does not know yet are
// ignored; fields it knows are shown when the JSON has them.
'use strict';

const PAGE_SIZE = 10;
const TYPING_DELAY_MS = 200;
/** Facets in the order the sidebar shows them; each is also a filter parameter. */
const FACETS = ['kind', 'source', 'author', 'topic'];
/** Parameters the page sets itself; every other parameter is a removable filter chip. */
const OWN = new Set(['q', 'offset', 'limit', 'date_bucket', 'since', 'until', 'all_versions', 'verified']);
/** How an item page lists its records, by kind. */
const SECTIONS = [
  ['summary', 'Summary'], ['claim', 'Claims'], ['quote', 'Key quotes'], ['passage', 'Text'],
  ['narrative', 'Narrative'], ['event', 'Timeline'], ['perspective', 'Perspectives'],
  ['tension', 'Tensions'],
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const $ = (selector) => document.querySelector(selector);
const input = $('#q');
const wide = window.matchMedia('(min-width: 50rem)');
let typingTimer = null;
/** True while the current history entry is one that typing made: typing more replaces it. */
let typedEntry = false;
let inflight = null;
let generation = 0;

// ---- small DOM helpers ----------------------------------------------------

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === '') continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
const svg = (tag, attrs, ...children) =>
  build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);

const numbers = new Intl.NumberFormat('en-US');
const count = (n) => numbers.format(Number(n));
const plural = (n, one, many) => `${count(n)} ${n === 1 ? one : many}`;
const list = (value) => (Array.isArray(value) ? value : []);

/** The snippet's HTML (escaped text with `<b>` around matched words) as nodes: text and `<mark>` only. */
function snippet(html) {
  const template = document.createElement('template');
  template.innerHTML = String(html);
  return [...template.content.childNodes].map((node) =>
    node.nodeName === 'B' ? h('mark', null, node.textContent) : node.textContent);
}

// ---- the URL is the state ---------------------------------------------------

const params = () => new URLSearchParams(window.location.search);

/** The search URL after `change` edits a copy of the current parameters; paging restarts. */
function searchHref(change, keepOffset = false) {
  const p = params();
  change(p);
  if (!keepOffset) p.delete('offset');
  const query = p.toString();
  return query ? `/?${query}` : '/';
}

function itemHref(record) {
  const place = String(record.id || '').split('#')[1] || '';
  const p = new URLSearchParams({ path: record.path });
  if (place.includes('/')) p.set('item', place.split('/')[0]);
  return `/item?${p}${place ? `#${encodeURIComponent(place)}` : ''}`;
}

const browseHref = (name, value) => `/?${new URLSearchParams({ q: '*', [name]: value })}`;

function go(href, { replace = false, typed = false } = {}) {
  const here = window.location.pathname + window.location.search + window.location.hash;
  if (href !== here) window.history[replace ? 'replaceState' : 'pushState'](null, '', href);
  typedEntry = typed;
  render();
}

// ---- navigation and keys ----------------------------------------------------

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const href = link.getAttribute('href');
  if (href.startsWith('#')) return;
  const url = new URL(href, window.location.href);
  if (url.origin !== window.location.origin || !['/', '/item'].includes(url.pathname)) return;
  event.preventDefault();
  go(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => {
  typedEntry = false;
  render();
});

document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = 'input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]';
  if (event.target.closest(typing)) return;
  event.preventDefault();
  input.focus();
  input.select();
});

input.addEventListener('input', () => {
  window.clearTimeout(typingTimer);
  typingTimer = window.setTimeout(() => {
    typingTimer = null;
    searchFor(input.value, true);
  }, TYPING_DELAY_MS);
});

$('#search').addEventListener('submit', (event) => {
  event.preventDefault();
  window.clearTimeout(typingTimer);
  typingTimer = null;
  searchFor(input.value, false);
});

/**
 * Searches for `text`, keeping the filters on screen. The first pause in
 * typing adds a history entry; later pauses replace it, so back goes to what
 * was on screen before the typing began.
 */
function searchFor(text, typing) {
  const onSearch = window.location.pathname === '/';
  const replace = typing && typedEntry && onSearch;
  const href = searchHref((p) => {
    if (!onSearch) for (const key of [...p.keys()]) p.delete(key);
    if (text.trim()) p.set('q', text);
    else p.delete('q');
  });
  go(href, { replace, typed: typing });
}

wide.addEventListener('change', () => { if (wide.matches) $('#filters-box').open = true; });
$('#filters-box').open = wide.matches;

/** The sidebar shows beside search results only. */
function showFilters(shown) {
  $('#filters').hidden = !shown;
  $('.page').classList.toggle('with-filters', shown);
}

// ---- fetching -----------------------------------------------------------------

/** GET a JSON endpoint of this server; a non-2xx answer throws its `error` message. */
async function getJSON(url, signal) {
  let response;
  try {
    response = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new Error('the server did not answer');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
  return body;
}

async function render() {
  const mine = ++generation;
  if (inflight) inflight.abort();
  inflight = new AbortController();
  const { signal } = inflight;
  try {
    if (window.location.pathname === '/item') await renderItem(mine, signal);
    else await renderSearch(mine, signal);
  } catch (error) {
    if (error.name === 'AbortError' || mine !== generation) return;
    $('#view').replaceChildren(h('p', { class: 'error', role: 'alert' }, String(error.message)));
  }
}

/** Remembers which control had focus, to give it back after a redraw. */
function focusKey() {
  const el = document.activeElement;
  return el && el.dataset ? el.dataset.key : undefined;
}
function restoreFocus(key) {
  if (!key) return;
  const el = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (el) el.focus();
}

// ---- the search view ----------------------------------------------------------

async function renderSearch(mine, signal) {
  const p = params();
  const q = p.get('q') || '';
  if (!typingTimer && input.value !== q) input.value = q;
  document.title = q ? `${q} · claimsearch` : 'claimsearch';
  if (!q.trim()) return renderLanding(mine, signal);

  const api = new URLSearchParams(p);
  if (!api.has('limit')) api.set('limit', PAGE_SIZE);
  const url = `/search?${api}`;
  // A facet with chosen values counts its other values too (as if none were
  // chosen), so a second value can be added: one more small request each.
  const widened = FACETS.filter((name) => p.has(name)).map(async (name) => {
    const without = new URLSearchParams(api);
    without.delete(name);
    without.delete('offset');
    without.set('limit', '1');
    const other = await getJSON(`/search?${without}`, signal);
    return [name, other.facets && other.facets[name], other.facets_exact];
  });
  const [data, ...others] = await Promise.all([getJSON(url, signal), ...widened]);
  if (mine !== generation) return;
  for (const [name, buckets] of others) if (data.facets && buckets) data.facets[name] = buckets;
  const timing = performance.getEntriesByName(new URL(url, window.location.href).href).pop();
  const responded = timing && timing.responseEnd > 0 ? timing.responseEnd : performance.now();

  // Past 50,000 matches, the server estimates facet counts from a
  // sample (`facets_exact: false`); they are marked, with a way to count all.
  const estimated = data.facets_exact === false || others.some((o) => o[2] === false);
  const key = focusKey();
  drawFacets(p, data.facets || {}, estimated);
  showFilters(true);
  $('#view').replaceChildren(...searchView(p, data));
  restoreFocus(key);
  // First results painted: the frame after the DOM changed has been drawn.
  window.requestAnimationFrame(() => window.setTimeout(() => {
    performance.measure('claimsearch:results-painted', {
      start: responded, end: performance.now(), detail: { search: url },
    });
    performance.clearResourceTimings();
  }, 0));
}

function searchView(p, data) {
  const total = Number(data.total) || 0;
  const hits = list(data.hits);
  const offset = Number(p.get('offset')) || 0;
  const limit = Number(p.get('limit')) || PAGE_SIZE;
  const lines = [h('h1', { class: 'sr-only' }, `Results for ${p.get('q')}`)];

  const summary = h('p', { class: 'summary', id: 'summary', role: 'status' },
    h('strong', { id: 'total' }, count(total)), total === 1 ? ' match' : ' matches',
    hits.length ? ` · ${count(offset + 1)}–${count(offset + hits.length)} shown` : '',
    typeof data.groups === 'number' ? ` · ${plural(data.groups, 'distinct claim', 'distinct claims')}` : '');
  lines.push(summary);

  const corrections = list(data.corrections).filter((c) => c && c.from && c.to);
  if (corrections.length) {
    let corrected = String(data.query || p.get('q'));
    for (const c of corrections) corrected = corrected.split(c.from).join(c.to);
    lines.push(h('p', { class: 'note', id: 'corrections' }, 'Showing results for ', h('strong', null, corrected),
      ` (${corrections.map((c) => `${c.from} → ${c.to}`).join(', ')})`));
  }
  if (data.relaxed) {
    lines.push(h('p', { class: 'note' }, 'No record has every word: records with some of them are included.'));
  }
  const warnings = list(data.warnings);
  if (warnings.length) {
    lines.push(h('ul', { class: 'note warnings', 'aria-label': 'Warnings' },
      warnings.map((w) => h('li', null, typeof w === 'string' ? w : (w && w.message) || JSON.stringify(w)))));
  }

  lines.push(toolbar(p));
  const histogram = drawHistogram(p, list(data.facets && data.facets.date), data.facets_exact === false);
  if (histogram) lines.push(histogram);

  if (!hits.length) {
    lines.push(h('p', { class: 'empty' }, total > 0
      ? `Nothing on this page: the ${plural(total, 'match ends', 'matches end')} before it.`
      : 'No matches. Try fewer words or fewer filters.'));
  } else {
    lines.push(h('ol', { id: 'hits', class: 'hits', start: offset + 1, 'aria-label': 'Results' },
      hits.map((hit, i) => drawHit(hit, i === 0))));
  }
  lines.push(pager(total, offset, limit));
  return lines;
}

function toolbar(p) {
  const chips = [];
  for (const [name, value] of p) {
    if (OWN.has(name)) continue;
    chips.push(chip(`${name}: ${value}`, searchHref((x) => {
      const kept = x.getAll(name).filter((v) => v !== value);
      x.delete(name);
      for (const v of kept) x.append(name, v);
    }), `filter:${name}:${value}`));
  }
  const range = dateRange(p);
  if (range) {
    chips.push(chip(`date: ${range.label}`, searchHref((x) => {
      for (const k of ['since', 'until', 'date_bucket']) x.delete(k);
    }), 'filter:date'));
  }
  const toggle = (name, id, label) => h('label', { class: 'toggle' },
    h('input', {
      type: 'checkbox', id, 'data-key': id, checked: ['1', 'true'].includes(p.get(name)),
      onchange: (event) => go(searchHref((x) => {
        if (event.target.checked) x.set(name, 'true');
        else x.delete(name);
      })),
    }), ` ${label}`);
  const versions = [
    toggle('all_versions', 'all-versions', 'Include older thread versions'),
    toggle('verified', 'verified', "Only quotes found in the corpus's raw text"),
  ];
  return h('div', { class: 'toolbar' },
    chips.length ? h('ul', { class: 'chips', 'aria-label': 'Active filters' }, chips.map((c) => h('li', null, c))) : null,
    chips.length > 1 ? h('a', { href: searchHref((x) => { for (const k of [...x.keys()]) if (!OWN.has(k) || ['since', 'until', 'date_bucket'].includes(k)) x.delete(k); }), class: 'clear' }, 'Clear filters') : null,
    versions);
}

function chip(label, href, key) {
  return h('a', { class: 'chip', href, 'data-key': key, 'aria-label': `Remove filter ${label}` },
    label, h('span', { 'aria-hidden': 'true' }, ' ×'));
}

function pager(total, offset, limit) {
  if (total <= limit && offset === 0) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const at = (o) => searchHref((x) => { if (o > 0) x.set('offset', o); else x.delete('offset'); }, true);
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    offset > 0 ? h('a', { href: at(Math.max(0, offset - limit)), rel: 'prev', 'data-key': 'pager:prev' }, '← Previous') : h('span'),
    h('span', { id: 'page' }, `Page ${count(page)} of ${count(pages)}`),
    offset + limit < total ? h('a', { href: at(offset + limit), rel: 'next', 'data-key': 'pager:next' }, 'Next →') : h('span'));
}

// ---- one hit, and the parts an item page shares -------------------------------

function drawHit(hit, first) {
  return h('li', { class: 'hit', 'data-id': hit.id },
    h('p', { class: 'hit-head' }, kindBadge(hit.kind), hit.truncated ? h('span', { class: 'flag' }, 'cut short') : null),
    h('p', { class: 'snippet', elementtiming: first ? 'first-result' : null }, snippet(hit.snippet || hit.text || '')),
    h('p', { class: 'meta' }, h('a', { class: 'title', href: itemHref(hit) }, hit.title || '(untitled)'), byline(hit)),
    details(hit));
}

const kindBadge = (kind) => h('span', { class: `kind kind-${kind}` }, kind);

/** ` — source · authors · date`, as the record has them. */
function byline(record) {
  const authors = list(record.authors).length ? list(record.authors).join(', ') : record.author;
  const parts = [record.source, authors, record.date].filter(Boolean);
  return parts.length ? h('span', { class: 'byline' }, ` — ${parts.join(' · ')}`) : null;
}

/** Thread and version, provenance, echoes and citations: each only when the record has it. */
function details(record) {
  const lines = [];
  if (record.version !== null && record.version !== undefined) {
    const since = record.first_version;
    lines.push(h('li', null, `Thread version ${record.version}`,
      since !== null && since !== undefined && since !== record.version ? `, first in version ${since}` : ''));
  } else if (record.thread) {
    lines.push(h('li', null, 'In thread ', h('a', { href: browseHref('thread', record.thread) }, record.thread)));
  }
  if (Array.isArray(record.found_in)) {
    lines.push(record.found_in.length
      ? h('li', { class: 'found' }, '✓ Found in ',
        record.found_in.map((f, i) => [i ? ', ' : '', h('a', { href: itemHref({ path: f.path }) }, f.title || f.path)]))
      : h('li', { class: 'notfound' }, "Not found in the corpus's raw text"));
  }
  const echoes = record.echoes;
  if (echoes && Number(echoes.count) > 0) {
    const firstSeen = echoes.first;
    lines.push(h('li', { class: 'echoes' }, `Also in ${plural(Number(echoes.count), 'other item', 'other items')}`,
      firstSeen ? [', first: ', h('a', { href: itemHref({ path: firstSeen.path }) }, firstSeen.title || firstSeen.path),
        byline(firstSeen)] : ''));
  }
  const cites = list(record.cites);
  if (cites.length) {
    lines.push(h('li', { class: 'cites' }, 'Cites ', cites.map((c, i) => [i ? '; ' : '',
      h('cite', null, c.title), [c.source, c.date].filter(Boolean).length ? ` (${[c.source, c.date].filter(Boolean).join(', ')})` : ''])));
  }
  return lines.length ? h('ul', { class: 'details' }, lines) : null;
}

// ---- facets -------------------------------------------------------------------

function drawFacets(p, facets, estimated = false) {
  const names = [...FACETS.filter((n) => n in facets || p.has(n)),
    ...Object.keys(facets).filter((n) => !FACETS.includes(n) && n !== 'date')];
  const sections = [];
  for (const name of names) {
    const filterable = FACETS.includes(name);
    const chosen = filterable ? p.getAll(name).map((v) => v.toLowerCase()) : [];
    // A chosen value stays on screen, to be unchosen, even with no match left.
    const buckets = [...list(facets[name]), ...p.getAll(name)
      .filter((v, i) => filterable && chosen.indexOf(v.toLowerCase()) === i && !list(facets[name])
        .some((b) => typeof b.value === 'string' && b.value.toLowerCase() === v.toLowerCase()))
      .map((value) => ({ value, count: 0 }))];
    if (!buckets.length) continue;
    sections.push(h('section', { class: 'facet', 'data-facet': name, 'aria-labelledby': `facet-${name}` },
      h('h2', { id: `facet-${name}` }, name[0].toUpperCase() + name.slice(1)),
      h('ul', null, buckets.map((bucket, i) => facetValue(name, bucket, i, filterable, chosen, estimated)))));
  }
  if (estimated && sections.length) {
    sections.unshift(h('p', { class: 'note', id: 'facets-estimated' },
      'Counts marked ≈ are estimated from a sample of the matches. ',
      h('a', { href: searchHref((x) => x.set('exact_facets', '1'), true) }, 'Count every match')));
  }
  $('#facets').replaceChildren(...sections);
}

function facetValue(name, bucket, i, filterable, chosen, estimated) {
  const amount = estimated
    ? h('span', { class: 'count', title: 'estimated from a sample of the matches' }, `≈${count(bucket.count)}`)
    : h('span', { class: 'count' }, count(bucket.count));
  if (bucket.value === null || bucket.value === undefined || !filterable) {
    const label = bucket.value === null || bucket.value === undefined ? '(none)' : String(bucket.value);
    return h('li', { class: 'fixed', 'data-value': bucket.value === null ? '' : label },
      h('span', { class: 'value' }, label), ' ', amount);
  }
  const value = String(bucket.value);
  const id = `facet-${name}-${i}`;
  const on = chosen.includes(value.toLowerCase());
  return h('li', { 'data-value': value },
    h('input', {
      type: 'checkbox', id, checked: on, 'data-key': `facet:${name}:${value}`,
      onchange: () => go(searchHref((x) => {
        const kept = x.getAll(name).filter((v) => v.toLowerCase() !== value.toLowerCase());
        x.delete(name);
        for (const v of kept) x.append(name, v);
        if (!on) x.append(name, value);
      })),
    }),
    h('label', { for: id }, h('span', { class: 'value' }, value), ' ', amount));
}

// ---- the date histogram -------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');
const lastDay = (year, month) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The window `since`/`until` select, when it is one year, month or day (or any range). */
function dateRange(p) {
  const since = p.get('since');
  const until = p.get('until');
  if (!since && !until) return null;
  const y = since && since.slice(0, 4);
  if (since && until && since === `${y}-01-01` && until === `${y}-12-31`) return { year: y, label: y };
  const ym = since && since.slice(0, 7);
  if (since && until && since === `${ym}-01` && until === `${ym}-${pad(lastDay(+ym.slice(0, 4), +ym.slice(5)))}`) {
    return { year: y, month: ym, label: ym };
  }
  if (since && since === until) return { year: y, month: ym, day: since, label: since };
  return { label: [since ? `from ${since}` : '', until ? `to ${until}` : ''].filter(Boolean).join(' ') };
}

/** Buckets with the empty years (or months) between them, so the bars sit on a time axis. */
function withGaps(level, buckets) {
  const counts = new Map(buckets.map((b) => [b.value, Number(b.count)]));
  const keys = [...counts.keys()].sort();
  if (level === 'day' || keys.length < 2) return keys.map((k) => ({ value: k, count: counts.get(k) }));
  const out = [];
  if (level === 'year') {
    for (let y = +keys[0]; y <= +keys[keys.length - 1] && out.length < 500; y++) {
      out.push({ value: String(y), count: counts.get(String(y)) || 0 });
    }
  } else {
    let [y, m] = keys[0].split('-').map(Number);
    const end = keys[keys.length - 1];
    for (;;) {
      const k = `${y}-${pad(m)}`;
      out.push({ value: k, count: counts.get(k) || 0 });
      if (k >= end || out.length >= 600) break;
      m += 1;
      if (m > 12) { m = 1; y += 1; }
    }
  }
  return out;
}

function barLabel(level, value) {
  if (level === 'month') return MONTHS[+value.slice(5, 7) - 1] || value;
  if (level === 'day') return value.slice(8);
  return value;
}

/** Where a click on a bar goes: a year opens its months, a month its days, a day itself. */
function barHref(level, value) {
  return searchHref((x) => {
    if (level === 'year') {
      x.set('since', `${value}-01-01`); x.set('until', `${value}-12-31`); x.set('date_bucket', 'month');
    } else if (level === 'month') {
      x.set('since', `${value}-01`); x.set('until', `${value}-${pad(lastDay(+value.slice(0, 4), +value.slice(5)))}`);
      x.set('date_bucket', 'day');
    } else {
      x.set('since', value); x.set('until', value); x.set('date_bucket', 'day');
    }
  });
}

function drawHistogram(p, buckets, estimated = false) {
  const level = ['month', 'day'].includes(p.get('date_bucket')) ? p.get('date_bucket') : 'year';
  const dated = buckets.filter((b) => b && typeof b.value === 'string');
  if (!dated.length) return null;
  const bars = withGaps(level, dated);
  const highest = Math.max(1, ...bars.map((b) => b.count));
  const [BAR, GAP, HEIGHT, LABEL] = [26, 6, 80, 16];
  // Labels that would touch are thinned out: every other year, say.
  const every = Math.max(level === 'year' && bars.length > 6 ? 2 : 1, Math.ceil(bars.length / 12));
  const chart = svg('svg', {
    class: 'bars', viewBox: `-8 0 ${bars.length * (BAR + GAP) + 16} ${HEIGHT + LABEL}`, role: 'group',
    'aria-labelledby': 'histogram-title',
  }, bars.map((b, i) => {
    const tall = b.count ? Math.max(2, Math.round((b.count / highest) * HEIGHT)) : 0;
    const x = i * (BAR + GAP);
    const label = i % every === 0
      ? svg('text', { x: x + BAR / 2, y: HEIGHT + LABEL - 3, 'text-anchor': 'middle', 'aria-hidden': 'true' }, barLabel(level, b.value))
      : null;
    if (!b.count) return [svg('rect', { class: 'baseline', x, y: HEIGHT - 1, width: BAR, height: 1 }), label];
    const name = `${b.value}: ${estimated ? 'about ' : ''}${plural(b.count, 'match', 'matches')}`;
    return [svg('a', { href: barHref(level, b.value), 'aria-label': name, 'data-key': `bar:${b.value}`, 'data-bucket': b.value, 'data-count': b.count },
      svg('title', null, name),
      svg('rect', { class: 'hitbox', x, y: 0, width: BAR + GAP, height: HEIGHT }),
      svg('rect', { class: 'bar', x, y: HEIGHT - tall, width: BAR, height: tall })), label];
  }));

  chart.style.maxWidth = `${bars.length * 2.4}rem`; // a few bars stay bar-sized
  const range = dateRange(p);
  const crumbs = [];
  if (level !== 'year' || range) {
    const clear = searchHref((x) => { for (const k of ['since', 'until', 'date_bucket']) x.delete(k); });
    crumbs.push(h('a', { href: clear, 'data-key': 'crumb:all' }, '← All years'));
    if (range && range.year && (range.month || level === 'day')) {
      crumbs.push(' · ', h('a', { href: barHref('year', range.year), 'data-key': 'crumb:year' }, range.year));
    }
  }
  const title = level === 'year' ? 'Matches by year'
    : `Matches by ${level}${range && range.label ? `, ${range.label}` : ''}`;
  return h('figure', { class: 'histogram' },
    h('figcaption', null, h('span', { id: 'histogram-title' }, title), crumbs.length ? h('span', { class: 'crumbs' }, ' ', crumbs) : null),
    chart);
}

// ---- the landing view ---------------------------------------------------------

async function renderLanding(mine, signal) {
  showFilters(false);
  let about = null;
  try {
    const stats = await getJSON('/stats', signal);
    const dates = stats.first_date && stats.last_date ? ` · ${stats.first_date} to ${stats.last_date}` : '';
    about = `${plural(stats.records, 'record', 'records')} from ${plural(stats.pages, 'page', 'pages')} · ${plural(stats.sources, 'source', 'sources')}${dates}`;
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    about = `No search yet: ${error.message}`;
  }
  if (mine !== generation) return;
  const examples = ['uniform convergence', '"double descent"', 'memorization -diffusion', 'kind:quote grokking', '*'];
  $('#view').replaceChildren(
    h('h1', { class: 'landing' }, 'Who claimed what, where, and when?'),
    h('p', { id: 'about' }, about),
    h('p', null, 'Try ', examples.map((e, i) => [i ? ', ' : '', h('a', { href: `/?${new URLSearchParams({ q: e })}` }, h('code', null, e))]), '.'),
    h('p', { class: 'hint' }, 'Words must all match; "quotes" find a phrase, -word excludes, OR widens, field:value filters. Press / to search from anywhere.'));
}

// ---- the item view ------------------------------------------------------------

async function renderItem(mine, signal) {
  showFilters(false);
  const p = params();
  const path = p.get('path');
  if (!path) throw new Error('no item given: the address needs ?path=');
  const api = new URLSearchParams({ path });
  if (p.get('item')) api.set('item', p.get('item'));
  const data = await getJSON(`/records?${api}`, signal);
  if (mine !== generation) return;
  const records = list(data.records);
  if (!records.length) throw new Error(`nothing is indexed at ${path}`);
  const head = records[0];
  const isThread = head.version !== null && head.version !== undefined;
  document.title = `${head.title} · claimsearch`;

  const parts = [];
  parts.push(h('p', { class: 'eyebrow' }, isThread ? 'Thread history' : 'Item', ' · ', h('code', null, path)));
  parts.push(h('h1', { id: 'item-title', tabindex: '-1' }, head.title || '(untitled)'));
  if (isThread) {
    parts.push(h('p', { class: 'byline' }, `Version ${head.version}`, versionDate(data, head)));
    const versions = list(data.versions);
    if (versions.length) {
      parts.push(h('nav', { class: 'versions', 'aria-label': 'Versions' }, h('h2', null, 'Versions'),
        h('ol', null, versions.map((v) => h('li', null, h('a', {
          href: `/item?${new URLSearchParams({ path: v.path })}`,
          'aria-current': v.path === path ? 'page' : null,
        }, `Version ${v.version}`, v.date ? ` · ${v.date}` : ''))))));
    }
  } else {
    const by = byline(head);
    if (by) parts.push(h('p', { class: 'byline' }, by.textContent.replace(/^ — /, '')));
  }
  const topics = list(head.topics);
  if (topics.length) {
    parts.push(h('ul', { class: 'chips topics', 'aria-label': 'Topics' },
      topics.map((t) => h('li', null, h('a', { class: 'chip', href: browseHref('topic', t) }, t)))));
  }
  const threads = list(data.threads).length ? list(data.threads)
    : [...new Set(records.map((r) => r.thread).filter(Boolean))];
  parts.push(h('p', { class: 'threads' }, threads.length
    ? [isThread ? '' : 'Appears in ', threads.map((t, i) => [i ? ', ' : '', h('a', { href: browseHref('thread', t) }, isThread ? `Search this thread` : t)])]
    : 'Appears in no thread'));

  const kinds = [...SECTIONS, ...[...new Set(records.map((r) => r.kind))]
    .filter((k) => !SECTIONS.some(([s]) => s === k)).map((k) => [k, k])];
  for (const [kind, heading] of kinds) {
    const ofKind = records.filter((r) => r.kind === kind);
    if (!ofKind.length) continue;
    const tag = kind === 'event' || kind === 'claim' || kind === 'passage' ? 'ol' : 'ul';
    parts.push(h('section', { class: `records records-${kind}`, 'aria-labelledby': `section-${kind}` },
      h('h2', { id: `section-${kind}` }, heading, h('span', { class: 'count' }, ` ${count(ofKind.length)}`)),
      h(tag, null, ofKind.map((r) => recordEntry(r)))));
  }
  const key = focusKey();
  $('#view').replaceChildren(h('article', { class: 'item' }, parts));
  const place = decodeURIComponent(window.location.hash.slice(1));
  const target = place && document.getElementById(place);
  if (target) {
    target.classList.add('targeted');
    target.scrollIntoView({ block: 'center' });
  }
  if (!key) $('#item-title').focus({ preventScroll: Boolean(target) });
}

function versionDate(data, head) {
  const own = list(data.versions).find((v) => v.path === head.path);
  return own && own.date ? ` · ${own.date}` : '';
}

function recordEntry(record) {
  const place = String(record.id || '').split('#')[1] || record.id;
  const text = record.kind === 'quote' ? h('blockquote', null, record.text) : h('p', null, record.text);
  return h('li', { id: place, 'data-id': record.id },
    record.kind === 'event' && record.date ? h('time', { datetime: record.date }, record.date) : null,
    text, record.truncated ? h('p', { class: 'flag' }, 'cut short by the page') : null,
    details({ ...record, version: null, thread: null }));
}

render();
