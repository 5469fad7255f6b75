// The proctor console (/proctor) in Debian's chromium (playwright-core),
// against a real `examroom serve` that this file starts. Terminals and
// candidates are played through the API (fetch); the proctor works only
// through the page. Set up by run.sh: EXAMROOM, ROOM_DATA, PLAN,
// ARTIFACTS, CHROMIUM, WORK, PROCTOR_PASSWORD.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { room: daemon, cli, center, serve, stop, sleep, freePort } = require('./room.js');

const env = process.env;
const ART = env.ARTIFACTS;
let browser = null;
let page = null;
let base = '';

async function api(token, method, p, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`http://127.0.0.1:${daemon.port}${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

/* ---- the plan ---- */

const csv = fs
  .readFileSync(path.join(env.PLAN, 'candidates.csv'), 'utf8')
  .replace(/^\uFEFF/, '')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const people = csv
  .filter((c) => c[3] === '居民身份证' && c[7] === 'S1' && c[8] === 'R01' && c[9] !== '')
  .map((c) => ({ ticket: c[0], name: c[1], id: c[4], seat: Number(c[9]) }));

/* ---- the page ---- */

const shot = (name) => page.screenshot({ path: path.join(ART, `proctor-${name}.png`) });
const visible = (sel, timeout = 20000) => page.locator(sel).waitFor({ state: 'visible', timeout });
const textOf = (sel) => page.locator(sel).innerText();

async function until(fn, what, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

/* The room as the admin API sees it, with the proctor's token. */
const room = async () =>
  (await api(await page.evaluate(() => sessionStorage.getItem('examroom.proctor')), 'GET', '/admin/v1/room')).body;
const seated = (r, ticket) => {
  for (const s of r.seats) for (const c of s.candidates) if (c.ticket === ticket) return { seat: s.seat, c };
  return null;
};

/* Confirms the dialog open, after checking it names the candidate and the
 * session; answers with the detail's message. */
async function confirm(p, words) {
  await visible('#confirm');
  const t = await textOf('#confirm-text');
  for (const w of [p.name, p.ticket, 'S1', ...words]) assert.ok(t.includes(w), `${w} in "${t}"`);
  return t;
}

before(async () => {
  daemon.port = await freePort();
  base = `http://127.0.0.1:${daemon.port}`;
  await serve();
  for (let i = 0; i < 300 && !/场次 S1: 已解锁/.test(cli('status')); i++) await sleep(100);
  assert.ok(people.length >= 4, 'the plan has the candidates the tests need');
  browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) page.errors.push(m.text());
  });
  if (env.BROWSER_DEBUG) page.on('console', (m) => console.error(`page: ${m.text()}`));
});

after(async () => {
  if (browser) await browser.close();
  await stop();
});

test('the proctor console: login, live pairing, sign-in on the map, extend and move', async () => {
  const p = people[0];
  await page.goto(`${base}/proctor`);
  await visible('#screen-login');

  /* A wrong password: refused, with the server's words. */
  await page.fill('#password', 'not-the-password');
  await page.press('#password', 'Enter');
  await page.waitForFunction(() => /监考密码不正确/.test(document.getElementById('login-error').textContent));
  assert.equal(await page.locator('#screen-console').isVisible(), false);
  await shot('login-wrong');

  await page.fill('#password', env.PROCTOR_PASSWORD);
  await page.press('#password', 'Enter');
  await visible('#screen-console');
  await visible(`.tile[data-seat="${p.seat}"]`);
  assert.equal(await page.locator(`.tile[data-seat="${p.seat}"]`).getAttribute('data-state'), 'unpaired');
  assert.match(await textOf('.sessions'), /场次 S1：已解锁/);
  assert.match(await textOf('#sync-backlog'), /条/);
  await page.locator('#feed-state', { hasText: '实时更新中' }).waitFor({ timeout: 10000 });

  /* A terminal asks to pair: its code appears without a reload. */
  const ask = await api(null, 'POST', '/api/v1/terminals');
  assert.equal(ask.status, 201);
  const code = ask.body.pairing_code;
  const item = page.locator(`#pending li[data-code="${code}"]`);
  await item.waitFor({ timeout: 10000 });
  await shot('pairing');
  await item.locator('select').selectOption(String(p.seat));
  await item.locator('button.primary').click();
  await page.locator('#message', { hasText: `配对码 ${code} 已配到 ${p.seat} 号座位` }).waitFor();
  await page.locator(`.tile[data-seat="${p.seat}"][data-state="paired"]`).waitFor({ timeout: 10000 });
  assert.equal(await item.count(), 0);
  const pick = await api(ask.body.pairing_secret, 'GET', `/api/v1/terminals/${code}`);
  assert.equal(pick.status, 200);
  assert.equal(pick.body.seat, p.seat);

  /* The candidate signs in at it: the map changes by itself. */
  const si = await api(pick.body.terminal_token, 'POST', '/api/v1/signin', { ticket: p.ticket, id_number: p.id });
  assert.equal(si.status, 200, JSON.stringify(si.body));
  const tile = page.locator(`.tile[data-seat="${p.seat}"][data-state="signed_in"]`);
  await tile.waitFor({ timeout: 10000 });
  assert.match(await tile.innerText(), new RegExp(`${p.name}[\\s\\S]*已签到`));
  assert.match(await tile.innerText(), /剩余 \d\d:\d\d:\d\d/);
  assert.match(await textOf('[data-count="signed_in"]'), /已签到 1/);
  await shot('map');

  /* Extend by 15 minutes through the dialogs. */
  await tile.click();
  await visible('#detail');
  assert.equal(await textOf('#detail-ticket'), p.ticket);
  assert.equal(await textOf('#detail-extra'), '0 分钟');
  await page.fill('#extend-minutes', '15');
  await page.click('#act-extend');
  await confirm(p, ['15 分钟']);
  await shot('confirm-extend');
  await page.click('#confirm-ok');
  await page.locator('#detail-message', { hasText: '已为' }).waitFor();
  assert.match(await textOf('#detail-message'), new RegExp(`延长 15 分钟`));
  assert.equal(await textOf('#detail-extra'), '15 分钟');
  await shot('detail');

  /* A cancelled confirmation does nothing. */
  await page.click('#act-absent');
  await confirm(p, ['缺考']);
  await page.click('#confirm-cancel');
  assert.equal(await page.locator('#confirm').isVisible(), false);

  /* A refusal shows the server's words: a signed-in candidate is not absent. */
  await page.click('#act-absent');
  await confirm(p, []);
  await page.click('#confirm-ok');
  await page.locator('#detail-message.bad', { hasText: '已签到，不能记为缺考' }).waitFor();

  /* Move to a free seat. */
  const r0 = await room();
  const free = r0.seats.find((s) => s.candidates.length === 0 && s.seat !== p.seat).seat;
  await page.selectOption('#move-seat', String(free));
  await page.click('#act-move');
  await confirm(p, [`${free} 号座位`]);
  await page.click('#confirm-ok');
  await page.locator('#detail-message', { hasText: `调到 ${free} 号座位` }).waitFor();
  await page.click('#detail-close');
  await page.locator(`.tile[data-seat="${free}"][data-ticket="${p.ticket}"]`).waitFor({ timeout: 10000 });

  /* The room says so too. */
  const r1 = await room();
  const now = seated(r1, p.ticket);
  assert.equal(now.seat, free);
  assert.equal(now.c.extra_minutes, 15);
  const roster = cli('roster', '--format', 'json');
  assert.match(roster, new RegExp(p.ticket));
  await shot('after-move');
  assert.deepEqual(page.errors, []);
});

test('unlock a session with its code from the session bar', async () => {
  /* S2 starts hours later: the center keeps its key; the proctor types it. */
  await page.click('.sessions button[data-session="S2"]');
  await visible('#unlock-bar');
  assert.match(await textOf('#unlock-label'), /场次 S2 开考密码/);
  const code = center('unlock-code', '--session', 'S2').trim();
  const code1 = center('unlock-code', '--session', 'S1').trim();
  /* A typo, then another session's code: each in the server's words. */
  await page.fill('#unlock-code', `${code.slice(0, -1)}${code.endsWith('X') ? 'Y' : 'X'}`);
  await page.press('#unlock-code', 'Enter');
  await page.locator('#message.bad', { hasText: '场次 S2 的开考密码输入有误' }).waitFor();
  await page.fill('#unlock-code', code1);
  await page.click('#unlock-ok');
  await page.locator('#message.bad', { hasText: '开考密码不正确' }).waitFor({ timeout: 20000 });
  assert.match(await textOf('.sessions button[data-session="S2"]'), /未解锁/);
  await shot('unlock');
  await page.fill('#unlock-code', code);
  await page.click('#unlock-ok');
  await page.locator('#message:not(.bad)', { hasText: '场次 S2 已解锁' }).waitFor({ timeout: 20000 });
  await page.locator('.sessions button[data-session="S2"]', { hasText: '已解锁' }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#unlock-bar').isVisible(), false);
  assert.match(cli('status'), /场次 S2: 已解锁/);
  await page.click('.sessions button[data-session="S1"]');
  assert.deepEqual(page.errors, []);
});

test('reject a pairing request: the terminal says so and asks for a new code on request', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN' });
  const term = await ctx.newPage();
  const termErrors = [];
  term.on('pageerror', (e) => termErrors.push(String(e)));
  await term.goto(`${base}/`);
  const codeEl = term.locator('#pair-code');
  await term.waitForFunction(() => /\S/.test(document.getElementById('pair-code').textContent), null, { timeout: 20000 });
  const code = (await codeEl.innerText()).trim();
  const item = page.locator(`#pending li[data-code="${code}"]`);
  await item.waitFor({ timeout: 10000 });
  await item.locator(`button[data-reject="${code}"]`).click();
  await page.locator('#message', { hasText: `已拒绝配对码 ${code}` }).waitFor();
  await item.waitFor({ state: 'detached', timeout: 10000 });
  await term.locator('#pair-state', { hasText: '监考老师没有批准这次配对' }).waitFor({ timeout: 20000 });
  await term.locator('#pair-again').waitFor({ state: 'visible' });
  await term.screenshot({ path: path.join(ART, 'terminal-pair-rejected.png') });
  /* Stays refused until asked (and across a reload). */
  await term.reload();
  await term.locator('#pair-again').waitFor({ state: 'visible', timeout: 20000 });
  await term.click('#pair-again');
  await term.waitForFunction(
    (old) => /\S/.test(document.getElementById('pair-code').textContent) &&
      document.getElementById('pair-code').textContent.trim() !== old,
    code,
    { timeout: 20000 },
  );
  const fresh = (await codeEl.innerText()).trim();
  await page.locator(`#pending li[data-code="${fresh}"]`).waitFor({ timeout: 10000 });
  await page.locator(`#pending li[data-code="${fresh}"] button[data-reject]`).click();
  await page.locator(`#pending li[data-code="${fresh}"]`).waitFor({ state: 'detached', timeout: 10000 });
  await ctx.close();
  assert.deepEqual(termErrors, []);
  assert.deepEqual(page.errors, []);
});

test('a reload keeps the login; logout ends it', async () => {
  await page.reload();
  await visible('#screen-console');
  await visible(`.tile[data-seat="${people[0].seat}"]`);
  const token = await page.evaluate(() => sessionStorage.getItem('examroom.proctor'));
  await page.click('#logout');
  await visible('#screen-login');
  await until(async () => (await api(token, 'GET', '/admin/v1/room')).status === 403, 'the token ended');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('examroom.proctor')), null);
  await shot('login');
  assert.deepEqual(page.errors, []);
});
