// The HTML shell of the report: inline CSS, the containers the script fills, and a policy that forbids any network access.
import { escapeHtml } from './embed-json';
import { PAGE_SCRIPT } from './page-script';

/** Id of the <script type="application/json"> element that holds the report data. */
export const DATA_ELEMENT_ID = 'audit-data';

// Nothing may leave the page: no fetch, no image, font or stylesheet from elsewhere.
const POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE = `
:root { --ok: #4c78a8; --warning: #c98a00; --failure: #d62728; --critical: #7f0000; --ink: #1f2328; --muted: #656d76;
  --line: #d0d7de; --bg: #f6f8fa; --failure-bg: #ffebe9; --critical-bg: #ffd2cc; --warning-bg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); background: var(--bg); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 16px; margin: 0 0 10px; }
main { padding: 16px 28px 40px; }
section { margin: 0 0 26px; }
.meta { color: var(--muted); margin: 0; }
.notice { margin: 8px 0 0; padding: 6px 10px; background: var(--warning-bg); border: 1px solid #e9d37a; border-radius: 6px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 14px; }
.card { min-width: 130px; padding: 10px 14px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.card b { display: block; font-size: 22px; }
.card.failure b { color: var(--failure); } .card.critical b { color: var(--critical); } .card.warning b { color: var(--warning); }
.filters { display: flex; gap: 10px; flex-wrap: wrap; align-items: center; position: sticky; top: 0; z-index: 2;
  padding: 10px 0; background: #fff; border-bottom: 1px solid var(--line); }
.filters select, .filters input[type=search], .filters button { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.filters input[type=search] { min-width: 260px; }
#shown-count { margin-left: auto; color: var(--muted); }
#timeline svg { display: block; width: 100%; }
#timeline .lane-label { font-size: 12px; fill: var(--ink); }
#timeline .axis { font-size: 11px; fill: var(--muted); }
#timeline rect.mark { cursor: pointer; }
#timeline rect.mark:hover { stroke: var(--ink); stroke-width: 1; }
.legend { display: flex; gap: 14px; color: var(--muted); font-size: 12px; margin-top: 6px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
#counts td.action { cursor: pointer; color: #0969da; }
#counts td.failure { color: var(--failure); font-weight: 600; } #counts td.critical { color: var(--critical); font-weight: 700; }
#counts td.warning { color: var(--warning); font-weight: 600; }
tr.event-row { cursor: pointer; }
tr.event-row:hover { background: var(--bg); }
tr.event-row.failure { background: var(--failure-bg); }
tr.event-row.critical { background: var(--critical-bg); box-shadow: inset 4px 0 0 var(--critical); }
tr.event-row.open { outline: 2px solid #0969da; outline-offset: -2px; }
.status { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: var(--ok); }
.status.warning { background: var(--warning); } .status.failure { background: var(--failure); }
.status.critical { background: var(--critical); text-transform: uppercase; letter-spacing: .03em; }
.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
.summary { color: var(--muted); max-width: 520px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tr.event-details > td { background: #fbfcfd; padding: 12px 16px 16px; }
.event-details dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 0 0 12px; }
.event-details dt { color: var(--muted); } .event-details dd { margin: 0; word-break: break-all; }
.event-details .error { color: var(--failure); font-weight: 600; }
.event-details h3 { font-size: 13px; margin: 12px 0 6px; }
.changes td, .changes th { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.changes .before { background: #ffebe9; } .changes .after { background: #dafbe1; }
pre { margin: 0; padding: 10px; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 420px;
  font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
#more { margin-top: 10px; font: inherit; padding: 6px 12px; }
.empty { color: var(--muted); padding: 16px 0; }
`;

/** The page up to and including the opening of the data element. */
export function pageStart(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${POLICY}">
<meta name="generator" content="auditrail report">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(title)}</h1>
  <p class="meta" id="meta"></p>
  <p class="notice" id="notice" hidden></p>
  <div class="cards" id="cards"></div>
</header>
<main>
  <div class="filters" role="search">
    <label>Action <select id="filter-action"></select></label>
    <label>Status <select id="filter-status"></select></label>
    <input id="filter-text" type="search" placeholder="Search actor, error, details, id..." aria-label="Search">
    <label><input id="filter-severe" type="checkbox"> Failures and critical only</label>
    <label>Order <select id="order"><option value="newest">Newest first</option><option value="oldest">Oldest first</option></select></label>
    <button id="reset" type="button">Reset</button>
    <span id="shown-count"></span>
  </div>
  <section id="timeline"><h2>Timeline by action and status</h2><div id="timeline-chart"></div><div class="legend" id="legend"></div></section>
  <section id="counts"><h2>Counts per action</h2><table><thead id="counts-head"></thead><tbody id="counts-body"></tbody></table></section>
  <section id="events"><h2>Events</h2>
    <table><thead><tr><th>Time (UTC)</th><th class="num">Seq</th><th>Action</th><th>Status</th><th>Actor</th><th>Details</th></tr></thead>
    <tbody id="event-rows"></tbody></table>
    <p class="empty" id="no-events" hidden>No event matches these filters.</p>
    <button id="more" type="button" hidden></button>
  </section>
</main>
<script type="application/json" id="${DATA_ELEMENT_ID}">`;
}

/** The rest of the page after the data. */
export function pageEnd(): string {
  return `</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
