// The candidate terminal in Debian's chromium (playwright-core), against a
// real `examroom serve` that this file starts, kills and restarts (its exam
// clock moved with EXAMROOM_CLOCK_OFFSET). Set up by run.sh: EXAMROOM,
// ROOM_DATA, PLAN, ARTIFACTS, CHROMIUM, WORK. TERMINAL_URL (optional) points
// the browser elsewhere than the daemon (a development server).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { room, cli, serve, stop, sleep, freePort, planRows } = require('./room.js');

const env = process.env;
const ART = env.ARTIFACTS;
room.port = Number(env.EXAMROOM_PORT || 0);
let browser = null;
let base = '';
let startsAt = 0;

/* The daemon's clock OFFSET seconds from the real one, SECONDS after the
 * session's start. */
const at = (seconds) => startsAt + seconds - Date.now() / 1000;

async function api(token, method, p, body) {
  const r = await fetch(`http://127.0.0.1:${room.port}/api/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

/* ---- the plan ---- */

const csv = planRows();
/* Resident IDs of session S1 in room R01 with a seat. */
const people = csv
  .filter((c) => c[3] === '居民身份证' && c[7] === 'S1' && c[8] === 'R01' && c[9] !== '')
  .map((c) => ({ ticket: c[0], name: c[1], id: c[4], occupation: c[5], level: c[6], seat: Number(c[9]) }));
const papers = fs
  .readdirSync(path.join(env.PLAN, 'papers'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(env.PLAN, 'papers', f), 'utf8')));
const paperOf = (p) => papers.find((x) => x.occupation === p.occupation && x.level === p.level);

const wide = (s) =>
  s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).replace(/X$/, 'ｘ');

/* ---- the page ---- */

async function open() {
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    /* A CSP refusal is a console error: the page must need none. */
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  if (env.BROWSER_DEBUG) page.on('console', (m) => console.error(`page: ${m.text()}`));
  if (env.BROWSER_DEBUG) page.on('pageerror', (e) => console.error(`page error: ${e}`));
  await page.goto(base);
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ART, `${name}.png`) });
const visible = (page, id, timeout = 20000) =>
  page.locator(`#${id}`).waitFor({ state: 'visible', timeout });
const text = (page, id) => page.locator(`#${id}`).innerText();

/* The page asks for a code; the proctor approves it to SEAT. */
async function pair(page, seat, screenshot) {
  await visible(page, 'screen-pairing');
  await page.waitForFunction(() => /\S/.test(document.getElementById('pair-code').textContent));
  const code = (await text(page, 'pair-code')).trim();
  assert.match(await text(page, 'pair-hint'), /请举手，把配对码告诉监考老师。/);
  if (screenshot) await shot(page, screenshot);
  /* A reload keeps the same code. */
  await page.reload();
  await page.waitForFunction(() => /\S/.test(document.getElementById('pair-code').textContent));
  assert.equal((await text(page, 'pair-code')).trim(), code);
  cli('pair', 'approve', code, '--seat', String(seat));
  await visible(page, 'screen-signin');
}

async function signin(page, ticket, id) {
  await page.fill('#ticket', ticket);
  await page.fill('#idnum', '');
  await page.locator('#idnum').pressSequentially(id);
  await page.press('#idnum', 'Enter');
}

async function signinError(page, want) {
  await page.waitForFunction(
    (w) => new RegExp(w).test(document.getElementById('signin-error').textContent),
    want.source,
    { timeout: 10000 },
  );
}

const candidateToken = (page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem('examroom.candidate')).token);

/* The options chosen on the item shown. */
const chosen = (page) =>
  page.$$eval('#item-options .option[aria-checked="true"]', (bs) =>
    bs.map((b) => b.dataset.key).join(''),
  );

async function goItem(page, i) {
  await page.click(`.cell[data-index="${i}"]`);
  await page.waitForFunction(
    (n) => document.getElementById('item-number').textContent.startsWith(`第 ${n + 1} 题`),
    i,
  );
}

/* Types ANSWER for the item shown with the keyboard alone. */
async function typeAnswer(page, item, answer, before) {
  const old = before || '';
  if (item.type === 'multiple') {
    /* Letters toggle: press those that differ. */
    for (const l of 'ABCDEFG') if (old.includes(l) !== answer.includes(l)) await page.keyboard.press(l);
  } else if (item.type === 'judge') {
    await page.keyboard.press(answer === 'T' ? (old ? 'T' : '1') : old ? 'F' : '2');
  } else {
    await page.keyboard.press(answer.toLowerCase());
  }
}

const saved = (page, timeout = 30000) =>
  page.locator('#bar-status[data-state="saved"]').waitFor({ timeout });

/* ---- the tests ---- */

before(async () => {
  if (!room.port) room.port = await freePort();
  base = env.TERMINAL_URL || `http://127.0.0.1:${room.port}`;
  await serve(0);
  /* The session's key comes from the center in the background. */
  for (let i = 0; i < 300 && !/场次 S1: 已解锁/.test(cli('status')); i++) await sleep(100);
  const st = JSON.parse(cli('status', '--json'));
  startsAt = st.sessions ? st.sessions.S1.starts_at : JSON.stringify(st).match(/"S1":\{[^}]*"starts_at":(\d+)/)[1];
  startsAt = Number(startsAt);
  assert.ok(startsAt > Date.now() / 1000, 'the session starts in the future');
  assert.ok(people.length >= 5, 'the plan has the candidates the tests need');
  browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  await stop('SIGTERM');
});

test('wrong ticket, wrong check digit, wrong seat and too late each say so', async () => {
  const [p, other] = [people[2], people[3]];
  const page = await open();
  await pair(page, p.seat);
  const asked = [];
  page.on('request', (r) => r.url().endsWith('/api/v1/signin') && asked.push(r));

  await signin(page, '4401999926999999', p.id);
  await signinError(page, /^准考证号不存在。请核对准考证后重新输入。$/);
  await shot(page, 'signin-wrong-ticket');

  const last = p.id[17] === '0' ? '1' : '0';
  const n = asked.length;
  await signin(page, p.ticket, p.id.slice(0, 17) + last);
  await signinError(page, /^证件号码校验位不对，请逐位核对$/);
  assert.equal(asked.length, n, 'a wrong check digit is caught before sending');
  await shot(page, 'signin-check-digit');

  await signin(page, other.ticket, other.id);
  await signinError(page, new RegExp(`^这不是您的座位。您的座位是 ${other.seat} 号，请到 ${other.seat} 号座位签到。$`));
  await shot(page, 'signin-wrong-seat');

  /* 16 minutes after the start: late admission (15) is over. */
  await serve(at(16 * 60));
  await signin(page, p.ticket, p.id);
  await signinError(page, /^已超过入场时间，不能再签到。请联系监考老师。$/);
  await shot(page, 'signin-too-late');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a candidate pairs, signs in, waits, answers every type, reloads, submits: scored by the key', async () => {
  await serve(at(-9 * 60));
  const p = people[0];
  const paper = paperOf(p);
  const page = await open();
  await pair(page, p.seat, 'pairing');

  /* The ID typed in full-width digits (a lower-case x where it has an X). */
  await page.fill('#ticket', p.ticket);
  await page.locator('#idnum').pressSequentially(wide(p.id));
  await shot(page, 'signin');
  await page.press('#idnum', 'Enter');
  await visible(page, 'screen-confirm');
  await page.waitForFunction(() => document.getElementById('confirm-photo').naturalWidth > 0);
  const details = await text(page, 'confirm-details');
  for (const v of [p.name, p.ticket, p.occupation, p.level, 'S1', `${p.seat} 号`]) assert.ok(details.includes(v), v);
  await shot(page, 'confirm');
  await page.click('#confirm-ok');
  await visible(page, 'screen-waiting');
  await page.waitForFunction(() => /距离开考还有 00:0\d:\d\d/.test(document.getElementById('wait-countdown').textContent));
  assert.equal(await page.locator('#screen-exam').isVisible(), false);
  await shot(page, 'waiting');

  /* The start (the daemon's clock three seconds before it). */
  await serve(at(-3));
  await visible(page, 'screen-exam', 30000);

  /* Every item, with the keyboard alone: right and wrong answers of each
   * type, one changed, one left unanswered. */
  const want = {};
  let score = 0;
  const items = paper.items;
  const skip = items.findIndex((it) => it.type === 'single' && Number(it.id) > 1);
  const changed = items.findIndex((it, j) => it.type === 'single' && j > skip);
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    let a = it.key;
    if (i === skip) a = '';
    else if (it.type === 'single' && i % 3 === 0) a = it.key === 'A' ? 'B' : 'A';
    else if (it.type === 'multiple' && i % 2 === 0) a = it.key.slice(1) || 'A';
    else if (it.type === 'judge' && i % 2 === 1) a = it.key === 'T' ? 'F' : 'T';
    if (i === changed) {
      /* Changed once: the last choice stands. */
      const first = it.key === 'C' ? 'D' : 'C';
      await typeAnswer(page, it, first, '');
      await typeAnswer(page, it, a, first);
    } else if (a) {
      await typeAnswer(page, it, a, '');
    }
    if (a) want[it.id] = a;
    if (a === it.key) score += it.points;
    assert.equal(await chosen(page), a, `item ${it.id}`);
    if (i === 2) await page.click('#flag');
    if (i < items.length - 1) await page.keyboard.press('ArrowRight');
  }
  await goItem(page, items.findIndex((it) => it.type === 'multiple'));
  await saved(page);
  await shot(page, 'exam');
  await page.click('[data-size="2"]');
  await shot(page, 'exam-large-text');
  await page.click('[data-size="0"]');

  /* A reload mid-exam: every answer, and the flag, still there. */
  await page.reload();
  await visible(page, 'screen-exam');
  for (let i = 0; i < items.length; i++) {
    await goItem(page, i);
    assert.equal(await chosen(page), want[items[i].id] || '', `after reload, item ${items[i].id}`);
  }
  assert.equal(await page.locator('.cell.flagged').count(), 1);
  assert.equal(await page.locator('.cell.answered').count(), Object.keys(want).length);

  /* Review: the counts, the unanswered one as a link. */
  await page.click('#to-review');
  await visible(page, 'screen-review');
  assert.equal(
    await text(page, 'review-counts'),
    `已答 ${items.length - 1} 题，未答 1 题，已标记 1 题`,
  );
  assert.equal((await text(page, 'review-unanswered')).trim(), String(skip + 1));
  /* Before the earliest submit (30 minutes after the start, by the
   * server's clock): 交卷 is disabled and the review says when it opens. */
  assert.equal(await page.locator('#review-submit').isDisabled(), true);
  const opens = new Date((Math.ceil((startsAt + 30 * 60) / 60) * 60 + 8 * 3600) * 1000)
    .toISOString()
    .slice(11, 16);
  assert.equal(
    await text(page, 'review-opens'),
    `开考 30 分钟后可以交卷（北京时间 ${opens} 起），请继续检查答案。`,
  );
  await shot(page, 'review');
  await shot(page, 'submit-too-early');

  /* 31 minutes in: the page, reloaded, opens 交卷. */
  await serve(at(31 * 60));
  await page.reload();
  await visible(page, 'screen-exam');
  await page.click('#to-review');
  await visible(page, 'screen-review');
  assert.equal(await page.locator('#review-submit').isDisabled(), false);
  assert.equal(await text(page, 'review-opens'), '');
  await page.click('#review-submit');
  await visible(page, 'dialog');
  assert.equal(await text(page, 'dialog-text'), '交卷后不能再修改答案，确定交卷吗？');
  await shot(page, 'submit-confirm');
  await page.click('#dialog-ok');
  await visible(page, 'screen-done');
  assert.equal(await text(page, 'done-title'), '已交卷');
  assert.match(await text(page, 'done-time'), /^交卷时间 \d\d:\d\d:\d\d（北京时间）$/);
  await shot(page, 'done');

  const roster = JSON.parse(cli('roster', '--format', 'json'));
  const rows = Array.isArray(roster) ? roster : roster.candidates || Object.values(roster).flat();
  const row = rows.find((r) => r.ticket === p.ticket);
  assert.ok(row, 'the candidate is in the roster');
  assert.equal(row.state, 'submitted');
  assert.equal(row.score, score, `the room's score is the key's (${score})`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/* Before the kill test: that one runs the clock past the session's end. */
test('moved by the proctor mid-exam: the page says where to go and returns to sign-in', async () => {
  await serve(at(3 * 60));
  const p = people[4];
  const items = paperOf(p).items;
  const page = await open();
  await pair(page, p.seat);
  await signin(page, p.ticket, p.id);
  await visible(page, 'screen-confirm');
  await page.click('#confirm-ok');
  await visible(page, 'screen-exam');
  await typeAnswer(page, items[0], items[0].type === 'judge' ? 'T' : 'A', '');
  await saved(page);

  /* The countdown from the server's clock: amber in the last 15 minutes,
   * red in the last 5, and said once in words. */
  const { ends_at: end } = (await api(await candidateToken(page), 'GET', '/exam')).body;
  await serve(end - 14 * 60 - Date.now() / 1000);
  await page.reload();
  await visible(page, 'screen-exam');
  await page.locator('#bar-clock.amber').waitFor({ timeout: 5000 });
  assert.match(await text(page, 'bar-clock-time'), /^00:1[34]:\d\d$/);
  assert.equal(await text(page, 'notice'), '距离考试结束还有 15 分钟');
  await serve(end - 4 * 60 - Date.now() / 1000);
  await page.reload();
  await page.locator('#bar-clock.red').waitFor({ timeout: 5000 });
  assert.equal(await text(page, 'notice'), '距离考试结束还有 5 分钟');
  await shot(page, 'exam-last-minutes');

  cli('move', p.ticket, '30');
  await page.keyboard.press('ArrowRight');
  await typeAnswer(page, items[1], items[1].type === 'judge' ? 'T' : 'B', '');
  await visible(page, 'screen-signin');
  assert.match(await text(page, 'signin-error'), /^监考老师已把您的座位调到 30 号。请到 30 号座位重新签到/);
  await shot(page, 'moved');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the agent killed and restarted mid-exam: nothing typed is lost, the page recovers', async () => {
  await serve(at(2 * 60));
  const p = people[1];
  const items = paperOf(p).items;
  const page = await open();
  await pair(page, p.seat);
  await signin(page, p.ticket, p.id);
  await visible(page, 'screen-confirm');
  await page.click('#confirm-ok');
  await visible(page, 'screen-exam');
  const token = await candidateToken(page);

  const want = {};
  const answer = async (i, a) => {
    await goItem(page, i);
    await typeAnswer(page, items[i], a, want[items[i].id] || '');
    want[items[i].id] = a;
  };
  const pick = (it, n) => (it.type === 'judge' ? 'TF'[n % 2] : it.type === 'multiple' ? ['AB', 'ACD', 'BD'][n % 3] : 'ABCD'[n % 4]);
  for (let i = 0; i < 5; i++) await answer(i, pick(items[i], i));
  await saved(page);

  /* A newer rev already stored (another page, a 200 lost on the way): the
   * page's change is refused as stale, and its latest choice is sent again
   * above the stored rev. The page's requests are cut meanwhile. */
  await page.route('**/api/v1/answers/**', (r) => r.abort());
  await answer(3, pick(items[3], 1));
  await page.locator('#bar-status[data-state="offline"]').waitFor({ timeout: 15000 });
  const other = items[3].type === 'judge' ? (want[items[3].id] === 'T' ? 'F' : 'T') : 'A';
  const put = await api(token, 'PUT', `/answers/${items[3].id}`, { answer: other, rev: 50 });
  assert.equal(put.status, 200);
  await page.unroute('**/api/v1/answers/**');
  await saved(page);
  let r = await api(token, 'GET', '/exam');
  assert.deepEqual(r.body.answers[items[3].id], { answer: want[items[3].id], rev: 51 });

  /* Killed outright; the candidate goes on answering meanwhile. */
  await stop('SIGKILL');
  for (let i = 5; i < 10; i++) await answer(i, pick(items[i], i + 1));
  await answer(0, pick(items[0], 1)); /* a change of mind while it is down */
  await page.locator('#bar-status[data-state="offline"]').waitFor({ timeout: 15000 });
  assert.equal(await text(page, 'bar-status'), '网络中断，答案暂存在本机，恢复后自动提交');
  await shot(page, 'exam-offline');
  await sleep(1000);
  await serve(at(2 * 60 + 5));
  await saved(page);
  assert.equal(await text(page, 'bar-status'), '已保存');
  for (let i = 0; i < 10; i++) {
    await goItem(page, i);
    assert.equal(await chosen(page), want[items[i].id], `after the restart, item ${items[i].id}`);
  }

  r = await api(token, 'GET', '/exam');
  assert.equal(r.status, 200);
  const stored = Object.fromEntries(Object.entries(r.body.answers).map(([k, v]) => [k, v.answer]));
  assert.deepEqual(stored, want, 'the stored answers are the last chosen');

  /* Reloaded with answers not yet sent (the page's requests cut): they
   * come back from the browser's storage, shown and then sent. */
  await page.route('**/api/v1/answers/**', (x) => x.abort());
  await answer(10, pick(items[10], 2));
  await answer(11, pick(items[11], 2));
  await page.locator('#bar-status[data-state="offline"]').waitFor({ timeout: 15000 });
  await page.reload();
  await visible(page, 'screen-exam');
  for (const i of [10, 11]) {
    await goItem(page, i);
    assert.equal(await chosen(page), want[items[i].id], `after a reload, unsent item ${items[i].id}`);
  }
  await page.locator('#bar-status[data-state="offline"]').waitFor({ timeout: 15000 });
  await page.unroute('**/api/v1/answers/**');
  await saved(page);
  r = await api(token, 'GET', '/exam');
  assert.deepEqual(
    Object.fromEntries(Object.entries(r.body.answers).map(([k, v]) => [k, v.answer])),
    want,
    'the unsent answers were sent after the reload',
  );

  /* The time runs out (daemon past the end): the page says so. */
  await serve(r.body.ends_at + 5 - Date.now() / 1000);
  await goItem(page, 12).catch(() => {});
  await typeAnswer(page, items[12], pick(items[12], 0), '');
  await visible(page, 'screen-done', 30000);
  assert.equal(await text(page, 'done-title'), '考试时间到，系统已自动交卷。');
  await shot(page, 'time-up');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
