// The reports in Debian's chromium (playwright-core): each HTML report,
// loaded from GET /admin/v1/reports/{kind} under its own CSP, printed to an
// A4 PDF and read back with poppler's pdfinfo and pdftotext (pages, the
// table's head on every page, names, masked ID numbers and never a whole
// one); then the console's reports panel: 打印 opens the report in a new
// window, 下载 CSV saves a file that starts with the BOM. Set up by run.sh
// (BROWSER_CANDIDATES=60: 30 in S1, a sign-in sheet of several pages).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { chromium } = require('playwright-core');
const { room: daemon, cli, serve, stop, freePort, planRows } = require('./room.js');

const env = process.env;
const ART = env.ARTIFACTS;
let browser = null;
let base = '';

const csv = planRows();
/* S1 of R01: every candidate there (some with a seat yet to be arranged). */
const people = csv
  .filter((c) => c[7] === 'S1' && c[8] === 'R01')
  .map((c) => ({ ticket: c[0], name: c[1], id: c[4] }));
const masked = (id) => (id.length >= 10 ? `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}` : null);

const KINDS = { signin: '签到表', scores: '成绩报表', attendance: '考勤表' };

async function newPage(options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    ...options,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) page.errors.push(m.text());
  });
  return page;
}

const pdfinfo = (file) => execFileSync('pdfinfo', [file], { encoding: 'utf8' });
/* The text of the PDF (or of its page n), laid out as printed. */
const pdftext = (file, n) =>
  execFileSync('pdftotext', ['-layout', ...(n ? ['-f', `${n}`, '-l', `${n}`] : []), file, '-'], {
    encoding: 'utf8',
  });

before(async () => {
  daemon.port = await freePort();
  base = `http://127.0.0.1:${daemon.port}`;
  await serve();
  assert.ok(people.length >= 20, `S1 has a roster of several pages (${people.length})`);
  browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  await stop();
});

test('each HTML report printed to A4: pages, the head on each, content, masked IDs', async () => {
  const admin = fs.readFileSync(path.join(env.ROOM_DATA, 'admin-token'), 'utf8').trim();
  const page = await newPage({ extraHTTPHeaders: { Authorization: `Bearer ${admin}` } });
  for (const [kind, title] of Object.entries(KINDS)) {
    const r = await page.goto(`${base}/admin/v1/reports/${kind}?session=S1&format=html`);
    assert.equal(r.status(), 200);
    /* The report's own CSP lets its inline style and data: photos in. */
    const border = await page.evaluate(() => getComputedStyle(document.querySelector('tbody td')).borderTopStyle);
    assert.equal(border, 'solid', `${kind}: the inline style applies`);
    if (kind === 'signin') {
      const photos = await page.evaluate(() =>
        [...document.images].filter((i) => i.complete && i.naturalWidth > 0).length,
      );
      assert.equal(photos, people.length, 'every photo shows');
    }
    const file = path.join(ART, `report-${kind}.pdf`);
    await page.pdf({ path: file, format: 'A4', printBackground: true });
    const pages = Number(/Pages:\s+(\d+)/.exec(pdfinfo(file))[1]);
    const text = pdftext(file);
    if (kind !== 'attendance') {
      for (const p of people) assert.ok(text.includes(p.name), `${kind}: ${p.name} in the PDF`);
      assert.match(text, /监考员签名/);
    }
    for (const p of people) assert.ok(!text.includes(p.id), `${kind}: no whole ID number ${p.id}`);
    if (kind === 'signin') {
      for (const p of people)
        if (masked(p.id)) assert.ok(text.includes(masked(p.id)), `signin: ${masked(p.id)} in the PDF`);
      assert.ok(pages >= 2, `the sign-in sheet of ${people.length} takes pages (${pages})`);
      /* Each page starts with the table's head again: the plan line and the columns. */
      for (let i = 1; i <= pages; i++) {
        const one = pdftext(file, i);
        assert.match(one, /场次 S1/, `page ${i}: the session in its head`);
        assert.match(one, /座位号\s+照片\s+准考证号\s+姓名\s+证件号码/, `page ${i}: the columns' head`);
      }
    }
    assert.ok(text.includes(title), `${kind}: its title`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the console panel: 打印 opens the report, 下载 CSV saves it with the BOM', async () => {
  const page = await newPage();
  await page.goto(`${base}/proctor`);
  await page.fill('#password', env.PROCTOR_PASSWORD);
  await page.press('#password', 'Enter');
  await page.locator('#screen-console').waitFor({ state: 'visible' });
  const printBtn = page.getByRole('button', { name: '打印签到表（场次 S1）' });
  await printBtn.waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#reports-title').innerText(), '报表');
  await page.locator('#reports').screenshot({ path: path.join(ART, 'proctor-reports.png') });

  const [popup] = await Promise.all([page.context().waitForEvent('page'), printBtn.click()]);
  await popup.waitForURL(/^blob:/, { timeout: 15000 });
  await popup.waitForLoadState('load');
  const shown = await popup.locator('body').innerText();
  assert.match(shown, /签到表/);
  for (const p of people) {
    assert.ok(shown.includes(p.name), `the print window shows ${p.name}`);
    assert.ok(!shown.includes(p.id), `and never the whole ID ${p.id}`);
  }
  /* Styled (from /static/report.css: a blob: page keeps the console's CSP). */
  const border = await popup.evaluate(() => getComputedStyle(document.querySelector('tbody td')).borderTopStyle);
  assert.equal(border, 'solid');
  await popup.screenshot({ path: path.join(ART, 'proctor-report-print.png') });
  await page.locator('#reports-message', { hasText: '新窗口' }).waitFor();

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: '下载成绩报表 CSV（场次 S1）' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), '成绩报表-S1.csv');
  const bytes = fs.readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the BOM first');
  const lines = bytes.toString('utf8').slice(1).split('\r\n');
  assert.equal(lines[0], '座位号,准考证号,姓名,职业,等级,成绩,是否合格,状态,交卷时间');
  assert.equal(lines.filter((l) => l !== '').length, people.length + 1);
  assert.equal(bytes.toString('utf8'), cli('report', 'scores', '--session', 'S1'));
  await page.locator('#reports-message', { hasText: '已下载 成绩报表-S1.csv' }).waitFor();
  assert.deepEqual(page.errors, []);
});
