// The report's script, run in the browser: filters, timeline, counts and the event list. It builds
// every node with textContent (never innerHTML), so nothing in an event can become markup.

/** Browser JavaScript of the report page (plain ES2020, no dependencies). */
export const PAGE_SCRIPT = String.raw`(function () {
'use strict';
var data = JSON.parse(document.getElementById('audit-data').textContent);
var events = data.events;
var PAGE = 500;
var RANK = { ok: 0, warning: 1, failure: 2, critical: 3 };
var SVG = 'http://www.w3.org/2000/svg';
var state = { action: '', status: '', text: '', severe: false, order: 'newest', shown: PAGE, open: -1 };
var view = [];
var searchText = null;

function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var node = document.createElement(tag);
  for (var key in attrs || {}) {
    if (key === 'text') node.textContent = attrs[key]; else if (key === 'className') node.className = attrs[key]; else node.setAttribute(key, attrs[key]);
  }
  (children || []).forEach(function (child) { if (child) node.appendChild(child); });
  return node;
}
function svg(tag, attrs) {
  var node = document.createElementNS(SVG, tag);
  for (var key in attrs) node.setAttribute(key, attrs[key]);
  return node;
}
function fmt(n) { return n.toLocaleString('en-US'); }
function plural(n, word) { return fmt(n) + ' ' + word + (n === 1 ? '' : 's'); }
function levelOf(e) { var level = data.levels[e.s]; return e.e !== null && RANK[level] < RANK.failure ? 'failure' : level; }
function show(value) { return typeof value === 'string' ? value : JSON.stringify(value); }
function sum(row) { return row.reduce(function (a, b) { return a + b; }, 0); }

function levelTotal(level) {
  var total = 0;
  data.counts.forEach(function (row) { row.forEach(function (n, s) { if (data.levels[s] === level) total += n; }); });
  return total;
}

function header() {
  var span = data.first ? data.first + ' \u2192 ' + data.last : 'no events';
  $('meta').textContent = data.source + ' \u00b7 ' + span + ' \u00b7 generated ' + data.generatedAt + (data.selection ? ' \u00b7 ' + data.selection : '');
  if (events.length < data.total) {
    $('notice').hidden = false;
    $('notice').textContent = 'This page holds the newest ' + fmt(events.length) + ' of ' + fmt(data.total) +
      ' events; the counts per action cover all of them. Make a report with a larger --max-events to see more.';
  }
  var cards = [['Events', data.total, ''], ['Actions', data.actions.length, ''], ['Critical', levelTotal('critical'), 'critical'],
    ['Failures', levelTotal('failure'), 'failure'], ['Warnings', levelTotal('warning'), 'warning']];
  cards.forEach(function (c) {
    $('cards').appendChild(el('div', { className: 'card ' + c[2], id: 'card-' + c[0].toLowerCase() }, [el('b', { text: fmt(c[1]) }), el('span', { text: c[0] })]));
  });
}

function filters() {
  var action = $('filter-action'), status = $('filter-status');
  action.appendChild(el('option', { value: '', text: 'All actions (' + data.actions.length + ')' }));
  data.actions.forEach(function (name, a) { action.appendChild(el('option', { value: String(a), text: name + ' (' + fmt(sum(data.counts[a])) + ')' })); });
  status.appendChild(el('option', { value: '', text: 'All statuses' }));
  data.statuses.forEach(function (name, s) { status.appendChild(el('option', { value: String(s), text: name })); });
  action.addEventListener('change', function () { state.action = action.value; update(); });
  status.addEventListener('change', function () { state.status = status.value; update(); });
  $('filter-severe').addEventListener('change', function (ev) { state.severe = ev.target.checked; update(); });
  $('order').addEventListener('change', function (ev) { state.order = ev.target.value; update(); });
  var timer = 0;
  $('filter-text').addEventListener('input', function (ev) {
    clearTimeout(timer);
    timer = setTimeout(function () { state.text = ev.target.value.trim().toLowerCase(); update(); }, 120);
  });
  $('reset').addEventListener('click', function () {
    state.action = state.status = state.text = ''; state.severe = false;
    action.value = status.value = $('filter-text').value = ''; $('filter-severe').checked = false;
    update();
  });
  $('more').addEventListener('click', function () { state.shown += PAGE; renderRows(); });
}

function haystack(i) {
  if (!searchText) searchText = new Array(events.length);
  if (searchText[i] === undefined) {
    var e = events[i];
    searchText[i] = [e.i, e.t, data.actions[e.a], data.statuses[e.s], e.u || '', e.e || '', JSON.stringify(e.d), JSON.stringify(e.o)].join('\n').toLowerCase();
  }
  return searchText[i];
}

function select() {
  var a = state.action === '' ? -1 : Number(state.action), s = state.status === '' ? -1 : Number(state.status);
  var result = [];
  for (var i = 0; i < events.length; i++) {
    var e = events[i];
    if (a >= 0 && e.a !== a) continue;
    if (s >= 0 && e.s !== s) continue;
    if (state.severe && RANK[levelOf(e)] < RANK.failure) continue;
    if (state.text && haystack(i).indexOf(state.text) < 0) continue;
    result.push(i);
  }
  if (state.order === 'newest') result.reverse();
  return result;
}

function update() {
  view = select();
  state.shown = PAGE;
  $('shown-count').textContent = 'Showing ' + fmt(view.length) + ' of ' + plural(events.length, 'event');
  renderTimeline();
  renderCounts();
  renderRows();
}

function renderTimeline() {
  var box = $('timeline-chart');
  box.textContent = '';
  if (view.length === 0) { box.appendChild(el('p', { className: 'empty', text: 'No events to draw.' })); return; }
  var times = view.map(function (i) { return Date.parse(events[i].t); });
  var t0 = Infinity, t1 = -Infinity;
  times.forEach(function (t) { if (t < t0) t0 = t; if (t > t1) t1 = t; });
  if (t1 <= t0) t1 = t0 + 1000;
  var width = Math.max(480, box.clientWidth || 960), left = 170, right = 16, laneH = 24, top = 6;
  var lanes = [];
  view.forEach(function (i) { if (lanes.indexOf(events[i].a) < 0) lanes.push(events[i].a); });
  lanes.sort(function (x, y) { return x - y; });
  var buckets = Math.max(1, Math.floor((width - left - right) / 7)), cell = (width - left - right) / buckets;
  var grid = {};
  view.forEach(function (i, k) {
    var e = events[i], b = Math.min(buckets - 1, Math.floor((times[k] - t0) / (t1 - t0) * buckets)), key = e.a + ':' + b;
    var g = grid[key] || (grid[key] = { a: e.a, b: b, n: 0, worst: i, levels: {} });
    var level = levelOf(e);
    g.n++; g.levels[level] = (g.levels[level] || 0) + 1;
    if (RANK[level] >= RANK[levelOf(events[g.worst])]) g.worst = i;
  });
  var height = top + lanes.length * laneH + 22;
  var chart = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, height: String(height), role: 'img', 'aria-label': 'Timeline of events by action and status' });
  lanes.forEach(function (a, row) {
    var y = top + row * laneH;
    chart.appendChild(svg('line', { x1: String(left), x2: String(width - right), y1: String(y + laneH / 2), y2: String(y + laneH / 2), stroke: '#eaeef2' }));
    var label = svg('text', { x: String(left - 8), y: String(y + laneH / 2 + 4), 'text-anchor': 'end', class: 'lane-label' });
    label.textContent = data.actions[a];
    chart.appendChild(label);
  });
  Object.keys(grid).forEach(function (key) {
    var g = grid[key], row = lanes.indexOf(g.a), level = levelOf(events[g.worst]);
    var rect = svg('rect', { x: (left + g.b * cell).toFixed(1), y: String(top + row * laneH + 4), width: Math.max(3, cell - 2).toFixed(1),
      height: String(laneH - 8), rx: '2', fill: 'var(--' + level + ')', class: 'mark ' + level, 'data-index': String(g.worst) });
    var title = svg('title', {});
    var parts = Object.keys(g.levels).map(function (l) { return g.levels[l] + ' ' + l; });
    title.textContent = data.actions[g.a] + ': ' + plural(g.n, 'event') + ' (' + parts.join(', ') + ') \u2014 click for the most severe';
    rect.appendChild(title);
    rect.addEventListener('click', function () { openEvent(g.worst); });
    chart.appendChild(rect);
  });
  var axisY = top + lanes.length * laneH + 15;
  [[left, 'start', t0], [(left + width - right) / 2, 'middle', (t0 + t1) / 2], [width - right, 'end', t1]].forEach(function (tick) {
    var text = svg('text', { x: String(tick[0]), y: String(axisY), 'text-anchor': tick[1], class: 'axis' });
    text.textContent = axisLabel(tick[2], t1 - t0);
    chart.appendChild(text);
  });
  box.appendChild(chart);
}

function axisLabel(ms, span) {
  var iso = new Date(ms).toISOString().replace('T', ' ');
  if (span < 60000) return iso.slice(11, 23) + 'Z';
  if (span < 86400000) return iso.slice(0, 19) + 'Z';
  return iso.slice(0, 16) + 'Z';
}

function legend() {
  ['ok', 'warning', 'failure', 'critical'].forEach(function (level) {
    var names = data.statuses.filter(function (_, s) { return data.levels[s] === level; });
    var label = level === 'ok' ? 'normal' : level;
    $('legend').appendChild(el('span', {}, [el('span', { className: 'swatch', style: 'background: var(--' + level + ')' }),
      document.createTextNode(label + (names.length ? ' (' + names.join(', ') + ')' : ''))]));
  });
}

function renderCounts() {
  var head = $('counts-head'), body = $('counts-body');
  if (!head.firstChild) {
    var cells = [el('th', { text: 'Action' }), el('th', { className: 'num', text: 'Total' })];
    data.statuses.forEach(function (name) { cells.push(el('th', { className: 'num', text: name })); });
    cells.push(el('th', { className: 'num', text: 'Matching filters' }));
    head.appendChild(el('tr', {}, cells));
  }
  var matching = data.actions.map(function () { return 0; });
  view.forEach(function (i) { matching[events[i].a]++; });
  body.textContent = '';
  data.actions.forEach(function (name, a) {
    var row = el('tr', { 'data-action': name }, [el('td', { className: 'action', text: name, title: 'Show only ' + name }), el('td', { className: 'num', text: fmt(sum(data.counts[a])) })]);
    data.counts[a].forEach(function (n, s) { row.appendChild(el('td', { className: 'num' + (n > 0 ? ' ' + data.levels[s] : ''), text: n ? fmt(n) : '' })); });
    row.appendChild(el('td', { className: 'num matching', text: fmt(matching[a]) }));
    row.firstChild.addEventListener('click', function () { state.action = String(a); $('filter-action').value = String(a); update(); });
    body.appendChild(row);
  });
}

function summary(e) {
  var keys = Object.keys(e.d);
  var text = keys.slice(0, 4).map(function (k) { var v = show(e.d[k]); return k + '=' + (v.length > 40 ? v.slice(0, 39) + '\u2026' : v); }).join('  ');
  return (e.e ? 'error: ' + e.e + (text ? '  ' : '') : '') + text + (keys.length > 4 ? '  \u2026' : '');
}

function renderRows() {
  var body = $('event-rows');
  body.textContent = '';
  var count = Math.min(state.shown, view.length);
  for (var k = 0; k < count; k++) {
    var i = view[k], e = events[i], level = levelOf(e);
    var row = el('tr', { className: 'event-row ' + level, 'data-index': String(i), 'data-id': e.i, tabindex: '0' }, [
      el('td', { className: 'time', text: e.t }), el('td', { className: 'num', text: String(e.q) }), el('td', { text: data.actions[e.a] }),
      el('td', {}, [el('span', { className: 'status ' + data.levels[e.s], text: data.statuses[e.s] })]),
      el('td', { text: e.u || '' }), el('td', { className: 'summary', text: summary(e) })]);
    row.addEventListener('click', toggle.bind(null, i));
    row.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') ev.currentTarget.click(); });
    body.appendChild(row);
    if (state.open === i) body.appendChild(detailsRow(i));
  }
  if (state.open >= 0) markOpen();
  $('no-events').hidden = view.length > 0;
  $('more').hidden = count >= view.length;
  $('more').textContent = 'Show ' + fmt(Math.min(PAGE, view.length - count)) + ' more (' + fmt(view.length - count) + ' not shown)';
}

function markOpen() {
  Array.prototype.forEach.call(document.querySelectorAll('tr.event-row'), function (row) { row.classList.toggle('open', Number(row.dataset.index) === state.open); });
}

function toggle(i) {
  var old = document.querySelector('tr.event-details');
  if (old) old.remove();
  state.open = state.open === i ? -1 : i;
  markOpen();
  if (state.open < 0) return null;
  var row = document.querySelector('tr.event-row[data-index="' + i + '"]');
  var details = detailsRow(i);
  row.after(details);
  return details;
}

function openEvent(i) {
  var k = view.indexOf(i);
  if (k < 0) return;
  if (k >= state.shown) { state.shown = k + 1; renderRows(); }
  if (state.open === i) toggle(i);
  var details = toggle(i);
  if (details) details.previousSibling.scrollIntoView({ block: 'center' });
}

function flatten(value, prefix, out) {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    Object.keys(value).forEach(function (k) { flatten(value[k], prefix ? prefix + '.' + k : k, out); });
  } else if (prefix) out[prefix] = value;
  return out;
}

function changes(d) {
  var rows = [];
  var isObj = function (v) { return v !== null && typeof v === 'object' && !Array.isArray(v); };
  if (isObj(d.before) || isObj(d.after)) {
    var before = flatten(d.before || {}, '', Object.create(null)), after = flatten(d.after || {}, '', Object.create(null)); // a key may be __proto__
    Object.keys(before).concat(Object.keys(after).filter(function (k) { return !(k in before); })).sort().forEach(function (path) {
      rows.push([path, path in before ? show(before[path]) : '(absent)', path in after ? show(after[path]) : '(absent)']);
    });
  }
  Object.keys(d).forEach(function (k) {
    var v = d[k];
    if (k !== 'before' && k !== 'after' && isObj(v) && 'before' in v && 'after' in v && Object.keys(v).length === 2) rows.push([k, show(v.before), show(v.after)]);
  });
  return rows;
}

function detailsRow(i) {
  var e = events[i], level = levelOf(e);
  var meta = [['Time', e.t], ['Seq', String(e.q)], ['Id', e.i], ['Action', data.actions[e.a]], ['Status', data.statuses[e.s]], ['Actor', e.u || '\u2014']];
  if (e.e) meta.push(['Error', e.e]);
  Object.keys(e.o).forEach(function (k) { meta.push(['source.' + k, show(e.o[k])]); });
  meta.push(['Hash', e.h]);
  var dl = el('dl');
  meta.forEach(function (m) { dl.appendChild(el('dt', { text: m[0] })); dl.appendChild(el('dd', { text: m[1], className: m[0] === 'Error' ? 'error' : '' })); });
  var parts = [dl];
  var rows = changes(e.d);
  if (rows.length) {
    parts.push(el('h3', { text: 'Before and after' }));
    var table = el('table', { className: 'changes' }, [el('thead', {}, [el('tr', {}, [el('th', { text: 'Value' }), el('th', { text: 'Before' }), el('th', { text: 'After' })])])]);
    var tbody = el('tbody');
    rows.forEach(function (r) { tbody.appendChild(el('tr', {}, [el('td', { text: r[0] }), el('td', { className: 'before', text: r[1] }), el('td', { className: 'after', text: r[2] })])); });
    table.appendChild(tbody);
    parts.push(table);
  }
  parts.push(el('h3', { text: 'Details' }), el('pre', { className: 'details-json', text: JSON.stringify(e.d, null, 2) }));
  return el('tr', { className: 'event-details ' + level, 'data-index': String(i) }, [el('td', { colspan: '6' }, [el('div', { className: 'event-details' }, parts)])]);
}

header();
filters();
legend();
update();
window.addEventListener('resize', function () { clearTimeout(window.__auditResize); window.__auditResize = setTimeout(renderTimeline, 150); });
document.documentElement.dataset.ready = 'true';
})();
`;
