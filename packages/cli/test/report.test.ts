// `auditrail report`: the page is made by the built binary from a real log and checked in a real headless Chromium
// (Debian's chromium, driven by playwright-core): event count, filters, details on click, a non-blank screenshot.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AuditLogger, pipelineStatuses } from '@auditrail/core';
import { jsonForScript } from '@auditrail/cli';
import fc from 'fast-check';
import { tempDir } from '../../../test/helpers/tmp';
import { runCli } from './helpers/run-cli';
import { colourStats, decodePng } from './report-png';

const CHROMIUM = '/usr/bin/chromium';
const PAYLOAD = '</script><script>window.__pwned = 1</script><!-- \u2028\u2029 <b>bold</b>';

/** 40 events: 12 tag_add, 10 hp_change (with before/after), 8 training (FAILURE with errors), 6 drift (2 CRITICAL), 4 notes. */
async function makeLog(dir: string): Promise<void> {
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', statuses: pipelineStatuses.extend('CRITICAL') });
  for (let i = 0; i < 12; i++) await logger.logEvent({ action: 'tag_add', details: { tag_name: 'defect', samples_affected: i + 1 }, actor: i % 2 ? 'alice' : 'bob' });
  for (let i = 0; i < 10; i++) {
    await logger.logEvent({ action: 'hp_change', details: { before: { optimizer: { lr: 0.1 / (i + 1) } }, after: { optimizer: { lr: 0.1 / (i + 2) } }, changed: ['optimizer.lr'] }, actor: 'carol' });
  }
  for (let i = 0; i < 8; i++) {
    await logger.logEvent({ action: 'training', status: i < 3 ? 'FAILURE' : 'INFO', details: { epoch: i }, error: i < 3 ? `CUDA out of memory at epoch ${i}` : null });
  }
  for (let i = 0; i < 6; i++) await logger.logEvent({ action: 'drift_alert', status: i < 2 ? 'CRITICAL' : 'WARNING', details: { feature: `f${i}`, psi: 0.3 + i / 10 } });
  for (let i = 0; i < 4; i++) await logger.logEvent({ action: 'note_write', details: { note: i === 0 ? PAYLOAD : `note ${i}` }, actor: 'dave' });
  await logger.close();
}

async function rowCount(page: Page): Promise<number> {
  return page.locator('tr.event-row').count();
}

describe('jsonForScript', function () {
  it('reads back as the same value and never holds <, >, &, U+2028 or U+2029', function () {
    const hostile = fc.constantFrom('</script>', '<!--', '-->', '\u2028', '\u2029', '&amp;', '<script>', ']]>');
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), hostile);
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(text), (value, strings) => {
        const subject = { value, strings };
        const json = jsonForScript(subject);
        expect(json).not.to.match(/[<>&\u2028\u2029]/);
        expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(subject)));
      }),
    );
  });
});

describe('auditrail report', function () {
  let dir: string;
  let html: string;
  let context: BrowserContext | undefined;

  before(async function () {
    dir = tempDir();
    await makeLog(join(dir, 'log'));
    html = join(dir, 'report.html');
    const run = await runCli(['report', join(dir, 'log'), '--out', html, '--title', 'Run 7']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/^Wrote a report of 40 events from .*audit_log\.jsonl \(jsonl\) to .*report\.html\n$/);
  });

  after(async function () {
    await context?.close();
  });

  it('is one self-contained file that loads nothing from anywhere and cannot be broken out of by event data', function () {
    const text = readFileSync(html, 'utf8');
    expect(text).not.to.match(/<script[^>]+src=|<link\b|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect(text).to.include("default-src 'none'");
    // Only the two closing tags of the page's own scripts: the payload's "</script>" is escaped.
    expect(text.match(/<\/script>/g)).to.have.length(2);
    expect(text).not.to.include('\u2028');
    expect(text).not.to.include('\u2029');
    expect(text).to.include('\\u003c/script\\u003e');
  });

  it('renders in headless Chromium: events, counts, filters, details on click, a screenshot with content', async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (see .ci/run)`);
    context = await chromium.launchPersistentContext(tempDir('auditrail-chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 15_000 });

    expect(await page.title()).to.equal('Run 7');
    expect(await rowCount(page)).to.equal(40);
    expect(await page.textContent('#shown-count')).to.equal('Showing 40 of 40 events');
    expect(await page.locator('tr.event-row.critical').count()).to.equal(2);
    expect(await page.locator('tr.event-row.failure').count()).to.equal(3);
    expect(await page.textContent('#card-critical b')).to.equal('2');
    expect(await page.textContent('#card-failures b')).to.equal('3');
    expect(await page.textContent('#counts-body tr[data-action="tag_add"] td:nth-child(2)')).to.equal('12');
    expect(await page.locator('#timeline-chart rect.mark').count()).to.be.greaterThan(4);
    expect(await page.locator('#timeline-chart text.lane-label').allTextContents()).to.have.members(['tag_add', 'hp_change', 'training', 'drift_alert', 'note_write']);

    // Filters: by action, then status, then text; the counts follow.
    await page.selectOption('#filter-action', { label: 'tag_add (12)' });
    expect(await rowCount(page)).to.equal(12);
    expect(await page.textContent('#shown-count')).to.equal('Showing 12 of 40 events');
    await page.selectOption('#filter-action', { label: 'All actions (5)' });
    await page.selectOption('#filter-status', { label: 'CRITICAL' });
    expect(await rowCount(page)).to.equal(2);
    await page.click('#reset');
    await page.check('#filter-severe');
    expect(await rowCount(page)).to.equal(5);
    await page.click('#reset');
    await page.fill('#filter-text', 'alice');
    await page.locator('#shown-count', { hasText: 'Showing 6 of 40 events' }).waitFor(); // the search waits for typing to pause
    expect(await rowCount(page)).to.equal(6);
    await page.click('#reset');
    expect(await rowCount(page)).to.equal(40);

    // Details on click: the before/after of an hp_change, and a failure's error.
    await page.click('#counts-body tr[data-action="hp_change"] td.action');
    expect(await rowCount(page)).to.equal(10);
    await page.click('tr.event-row >> nth=0');
    const details = page.locator('tr.event-details');
    expect(await details.isVisible()).to.equal(true);
    expect(await details.locator('table.changes td').allTextContents()).to.deep.equal(['optimizer.lr', String(0.1 / 10), String(0.1 / 11)]);
    expect(JSON.parse((await details.locator('pre.details-json').textContent()) ?? '')).to.deep.include({ changed: ['optimizer.lr'] });
    await page.click('tr.event-row >> nth=0');
    expect(await page.locator('tr.event-details').count()).to.equal(0);

    // The hostile note is shown as text, and ran nothing.
    await page.click('#reset');
    await page.fill('#filter-text', 'pwned');
    await page.locator('#shown-count', { hasText: 'Showing 1 of 40 events' }).waitFor();
    await page.click('tr.event-row >> nth=0');
    expect(JSON.parse((await page.locator('pre.details-json').textContent()) ?? '')).to.deep.equal({ note: PAYLOAD });
    expect(await page.evaluate('typeof window.__pwned')).to.equal('undefined');
    expect(await page.locator('b', { hasText: 'bold' }).count()).to.equal(0);

    // A timeline mark opens its most severe event.
    await page.click('#reset');
    await page.click('#timeline-chart rect.mark.critical >> nth=0');
    expect(await page.locator('tr.event-details').textContent()).to.include('CRITICAL');

    await page.click('#reset');
    const shot = decodePng(await page.screenshot({ fullPage: true }));
    const stats = colourStats(shot);
    expect(shot.width).to.equal(1280);
    expect(stats.distinct, 'distinct colours').to.be.greaterThan(50);
    expect(stats.inked, 'share of non-white pixels').to.be.greaterThan(0.05);
    expect(stats.reddish, 'red pixels of failures and CRITICAL').to.be.greaterThan(100);

    expect(errors).to.deep.equal([]);
    expect(requests.every((url) => url.startsWith('file:'))).to.equal(true, requests.join(', '));
  });

  it('holds the newest events in full when capped, with counts over all, and refuses to overwrite without --force', async function () {
    const capped = join(dir, 'capped.html');
    const run = await runCli(['report', join(dir, 'log'), '--out', capped, '--max-events', '5', '--status', 'info,critical']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/Wrote a report of 33 events \(the newest 5 in full\)/);
    const data = embeddedData(readFileSync(capped, 'utf8'));
    expect(data.total).to.equal(33);
    expect(data.events.map((e) => e.d.note ?? e.d.psi)).to.deep.equal([0.4, PAYLOAD, 'note 1', 'note 2', 'note 3']);
    expect(data.selection).to.equal('status: info, critical');
    const again = await runCli(['report', join(dir, 'log'), '--out', capped]);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/already exists; add --force/);
  });

  it('holds the events in log order whatever the file: CSV, a newest-first JSON array, a rotated journal', async function () {
    for (const [format, order] of [['csv', undefined], ['json', 'newest-first'], ['jsonl', 'rotated']] as const) {
      const log = tempDir();
      const options = order === 'rotated' ? { rotation: { maxBytes: 600 } } : order ? { order } : {};
      const logger = new AuditLogger({ rootLogDir: log, format, fsync: 'never', ...options });
      for (let i = 0; i < 5; i++) await logger.logEvent('step', { i });
      await logger.close();
      const out = join(tempDir(), 'r.html');
      const run = await runCli(['report', log, '--out', out]);
      expect(run.code, run.stderr).to.equal(0);
      expect(embeddedData(readFileSync(out, 'utf8')).events.map((e) => e.d.i)).to.deep.equal([0, 1, 2, 3, 4]);
    }
  });

  it("holds UTC timestamps for the first seed's zoneless ones, so the page reads them as UTC, not local time", async function () {
    const log = tempDir();
    const seed = [{ timestamp: '2026-05-27T14:30:01.123456', action_type: 'hp_change', status: 'success', details: {}, error: null }];
    writeFileSync(join(log, 'audit_log.json'), JSON.stringify(seed));
    const out = join(tempDir(), 'seed.html');
    const run = await runCli(['report', log, '--out', out], { env: { TZ: 'America/New_York' } });
    expect(run.code, run.stderr).to.equal(0);
    expect(embeddedData(readFileSync(out, 'utf8')).events.map((e) => e.t)).to.deep.equal(['2026-05-27T14:30:01.123456Z']);
  });
});

interface Embedded {
  total: number;
  selection: string;
  events: { d: Record<string, unknown>; t: string }[];
}

function embeddedData(text: string): Embedded {
  const match = /<script type="application\/json" id="audit-data">([\s\S]*?)<\/script>/.exec(text);
  if (!match) throw new Error('no embedded data');
  return JSON.parse(match[1]!) as Embedded;
}
