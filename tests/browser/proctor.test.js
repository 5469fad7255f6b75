// The proctor console (/proctor) in Debian's chromium (playwright-core),
// against a real `examroom serve` that this file starts. Terminals and
// candidates are played through the API (fetch); the proctor works only
// through the page. Set up by run.sh: EXAMROOM, ROOM_DATA, PLAN,
// ARTIFACTS, CHROMIUM, WORK, PROCTOR_PASSWORD.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { room: daemon, cli, center, serve, stop, sleep, freePort, planRows, openBrowser } = require('./room.js');

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

const csv = planRows();
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
async function confirm(p, words, session = 'S1') {
  await visible('#confirm');
  const t = await textOf('#confirm-text');
  for (const w of [p.name, p.ticket, session, ...words]) assert.ok(t.includes(w), `${w} in "${t}"`);
  return t;
}

before(async () => {
  daemon.port = await freePort();
  base = `http://127.0.0.1:${daemon.port}`;
  await serve();
  for (let i = 0; i < 300 && !/场次 S1: 已解锁/.test(cli('status')); i++) await sleep(100);
  assert.ok(people.length >= 4, 'the plan has the candidates the tests need');
  ({ browser, page } = await openBrowser());
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
  /* The message comes with the answer; the detail with the refresh after. */
  await page.locator('#detail-extra', { hasText: '15 分钟' }).waitFor({ timeout: 10000 });
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

test('a wrong unlock code in the session bar: refused in the server\'s words', async () => {
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
  /* The right code: in the whole room's run below. */
  assert.ok(code);
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
  /* No code on screen, so no "tell the proctor the code" either. */
  assert.equal((await term.locator('#pair-hint').innerText()).trim(), '');
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
  assert.equal((await term.locator('#pair-hint').innerText()).trim(), '请举手，把配对码告诉监考老师。');
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

/* ---- the whole room, in the browser (issue 12's fourth Show point) ---- */

/* S2's candidates with a seat in R01, a resident ID (the sign-in form's). */
const people2 = csv
  .filter((c) => c[3] === '居民身份证' && c[7] === 'S2' && c[8] === 'R01' && c[9] !== '')
  .map((c) => ({ ticket: c[0], name: c[1], id: c[4], seat: Number(c[9]) }));

/* A terminal page (its own browser context: its own localStorage). */
async function terminalPage() {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const t = await ctx.newPage();
  t.errors = [];
  t.on('pageerror', (e) => t.errors.push(String(e)));
  t.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) t.errors.push(m.text());
  });
  await t.goto(`${base}/`);
  await t.waitForFunction(() => /\S/.test(document.getElementById('pair-code').textContent), null, { timeout: 20000 });
  return t;
}

/* The proctor approves the page's code, shown live, to SEAT. */
async function approveInConsole(t, seat, name) {
  const code = (await t.locator('#pair-code').innerText()).trim();
  const item = page.locator(`#pending li[data-code="${code}"]`);
  await item.waitFor({ timeout: 10000 });
  await shot(`flow-${name}-pairing`);
  await item.locator('select').selectOption(String(seat));
  await item.locator('button.primary').click();
  await page.locator('#message', { hasText: `配对码 ${code} 已配到 ${seat} 号座位` }).waitFor();
  await t.locator('#screen-signin').waitFor({ state: 'visible', timeout: 20000 });
}

async function signIn(t, p) {
  await t.fill('#ticket', p.ticket);
  await t.locator('#idnum').pressSequentially(p.id);
  await t.press('#idnum', 'Enter');
}

/* The options chosen on the item shown, and the item's number. */
const chosenOn = (t) =>
  t.$$eval('#item-options .option[aria-checked="true"]', (bs) => bs.map((b) => b.dataset.key).join(''));
const itemNo = async (t) => Number((await t.locator('#item-number').innerText()).match(/第 (\d+) 题/)[1]);
/* The countdown's seconds, and when it was read. */
async function countdown(t) {
  const v = (await t.locator('#bar-clock-time').innerText()).trim().split(':').map(Number);
  return { left: v[0] * 3600 + v[1] * 60 + v[2], at: Date.now() };
}

test('the whole room: login, pairing, unlock, sign-in with a flag, answers, move and extend; the new seat has it all', async () => {
  const st = JSON.parse(cli('status', '--json'));
  const s2 = st.sessions ? st.sessions.S2 : null;
  const startsAt = Number(s2 ? s2.starts_at : JSON.stringify(st).match(/"S2":\{[^}]*"starts_at":(\d+)/)[1]);
  /* The daemon's clock a minute into S2 (a proctor login lives in the
   * daemon's memory: restarted before the login). */
  await serve(startsAt + 60 - Date.now() / 1000);

  /* The proctor logs in. */
  await page.goto(`${base}/proctor`);
  await visible('#screen-login');
  await page.fill('#password', env.PROCTOR_PASSWORD);
  await page.press('#password', 'Enter');
  await visible('#screen-console');
  await page.click('.sessions button[data-session="S2"]');
  await page.locator('#feed-state', { hasText: '实时更新中' }).waitFor({ timeout: 10000 });
  await shot('flow-1-login');

  /* A candidate of S2 at a seat with no terminal; where they will move: a
   * seat with neither a terminal nor an S2 candidate. */
  const r0 = await room();
  const bare = (n) => !r0.seats.find((s) => s.seat === n).terminal;
  const p = people2.find((x) => bare(x.seat));
  assert.ok(p, 'an S2 candidate at a seat without a terminal');
  const to = r0.seats.find((s) => !s.terminal && !s.candidates.some((c) => c.session === 'S2') && s.seat !== p.seat).seat;

  /* The terminal at their seat pairs: approved from the console. */
  const t1 = await terminalPage();
  await approveInConsole(t1, p.seat, '2');
  await page.locator(`.tile[data-seat="${p.seat}"][data-state="unpaired"], .tile[data-seat="${p.seat}"][data-state="paired"]`).waitFor({ timeout: 10000 });

  /* S2 is not unlocked (its key is the center's until its time, and the
   * center's clock is hours earlier): the proctor types its code. */
  await visible('#unlock-bar');
  await page.fill('#unlock-code', center('unlock-code', '--session', 'S2').trim());
  await page.click('#unlock-ok');
  await page.locator('#message:not(.bad)', { hasText: '场次 S2 已解锁' }).waitFor({ timeout: 20000 });
  await page.locator('.sessions button[data-session="S2"]', { hasText: /已解锁|进行中/ }).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('#unlock-bar').isVisible(), false);
  await shot('flow-3-unlocked');

  /* The candidate signs in; on the confirmation they press 信息有误:
   * the proctor's tile shows it, live; the page says the proctor knows,
   * and lets them go on. */
  await signIn(t1, p);
  await t1.locator('#screen-confirm').waitFor({ state: 'visible', timeout: 20000 });
  const tile = page.locator(`.tile[data-seat="${p.seat}"]`);
  await page.locator(`.tile[data-seat="${p.seat}"][data-state="signed_in"]`).waitFor({ timeout: 10000 });
  await t1.click('#confirm-wrong');
  await t1.locator('#confirm-message', { hasText: '已通知监考老师，请举手等候' }).waitFor({ timeout: 10000 });
  await t1.screenshot({ path: path.join(ART, 'proctor-flow-4-terminal-flagged.png') });
  await page.locator(`.tile[data-seat="${p.seat}"][data-flagged="true"]`).waitFor({ timeout: 10000 });
  assert.match(await tile.innerText(), /考生报告信息有误/);
  await shot('flow-4-flag-on-tile');
  await t1.click('#confirm-wrong'); /* pressed again: still one record */
  await t1.locator('#confirm-message', { hasText: '已通知监考老师' }).waitFor();
  assert.equal(await t1.locator('#confirm-ok').isEnabled(), true);

  /* The candidate dialog: their photo (a blob: URL), the flag. */
  await tile.click();
  await visible('#detail');
  await page.waitForFunction(() => {
    const img = document.getElementById('detail-photo');
    return !img.hidden && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:');
  }, null, { timeout: 10000 });
  assert.match(await textOf('#detail-flag'), /身份信息有误/);
  assert.equal(await textOf('#detail-incidents'), '1 条');
  await shot('flow-5-detail-photo');
  await page.click('#detail-close');
  assert.equal(await page.locator('#detail-photo').getAttribute('src'), null);

  /* They go on, and answer a few items (the keyboard alone). */
  await t1.click('#confirm-ok');
  await t1.locator('#screen-exam').waitFor({ state: 'visible', timeout: 20000 });
  const answers = {};
  for (let i = 0; i < 4; i++) {
    const type = await t1.locator('#item-type').innerText();
    const n = await itemNo(t1);
    if (type === '判断题') await t1.keyboard.press(i % 2 ? 'F' : 'T');
    else if (type === '多选题') {
      await t1.keyboard.press('A');
      await t1.keyboard.press('C');
    } else await t1.keyboard.press('ABCD'[i % 4].toLowerCase());
    answers[n] = await chosenOn(t1);
    assert.ok(answers[n], `item ${n} answered`);
    await t1.keyboard.press('ArrowRight');
  }
  await t1.locator('#bar-status[data-state="saved"]').waitFor({ timeout: 30000 });
  await page
    .locator(`.tile[data-seat="${p.seat}"][data-state="running"]`, { hasText: /已答 4\/\d+/ })
    .waitFor({ timeout: 10000 });
  await t1.screenshot({ path: path.join(ART, 'proctor-flow-6-terminal-answering.png') });
  await shot('flow-6-answering');
  const before = await countdown(t1);

  /* The proctor extends their time by 10 minutes, then moves them. */
  await tile.click();
  await visible('#detail');
  await page.fill('#extend-minutes', '10');
  await page.click('#act-extend');
  await confirm(p, ['10 分钟'], 'S2');
  await page.click('#confirm-ok');
  await page.locator('#detail-message', { hasText: '延长 10 分钟' }).waitFor();
  await shot('flow-7-extended');
  await page.selectOption('#move-seat', String(to));
  await page.click('#act-move');
  await confirm(p, [`${to} 号座位`], 'S2');
  await page.click('#confirm-ok');
  await page.locator('#detail-message', { hasText: `调到 ${to} 号座位` }).waitFor();
  await shot('flow-8-moved');
  await page.click('#detail-close');
  await page.locator(`.tile[data-seat="${to}"][data-ticket="${p.ticket}"]`).waitFor({ timeout: 10000 });

  /* The old seat's page: at the candidate's next answer (item 5, never
   * stored), where to go. */
  const late = await itemNo(t1);
  assert.equal(answers[late], undefined);
  await t1.keyboard.press((await t1.locator('#item-type').innerText()) === '判断题' ? 'T' : 'A');
  await t1.locator('#screen-signin').waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await t1.locator('#signin-error').innerText(), new RegExp(`监考老师已把您的座位调到 ${to} 号。请到 ${to} 号座位`));
  await t1.screenshot({ path: path.join(ART, 'proctor-flow-9-old-seat-moved.png') });

  /* The new seat's PC, paired through the console; they sign in there. */
  const t2 = await terminalPage();
  await approveInConsole(t2, to, '10');
  await signIn(t2, p);
  await t2.locator('#screen-confirm').waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await t2.locator('#confirm-details').innerText(), new RegExp(`${to} 号`));
  await t2.click('#confirm-ok');
  await t2.locator('#screen-exam').waitFor({ state: 'visible', timeout: 20000 });
  const after = await countdown(t2);
  /* Longer by the extension, less the seconds that passed (a second of
   * rounding either way). */
  const want = before.left + 600 - (after.at - before.at) / 1000;
  assert.ok(Math.abs(after.left - want) <= 3, `remaining ${after.left} s, want about ${Math.round(want)} s`);
  for (const [n, a] of Object.entries(answers)) {
    await t2.click(`.cell[data-index="${Number(n) - 1}"]`);
    await t2.waitForFunction((k) => document.getElementById('item-number').textContent.startsWith(`第 ${k} 题`), Number(n));
    assert.equal(await chosenOn(t2), a, `item ${n} on the new seat`);
  }
  await t2.click(`.cell[data-index="${late - 1}"]`);
  assert.equal(await chosenOn(t2), '', `item ${late}, answered after the move, is not`);
  assert.equal(await t2.locator('.cell.answered').count(), Object.keys(answers).length);
  await t2.screenshot({ path: path.join(ART, 'proctor-flow-10-new-seat.png') });
  await page.locator(`.tile[data-seat="${to}"][data-state="running"]`).waitFor({ timeout: 10000 });
  await shot('flow-10-map');

  const r1 = await room();
  const now = seated(r1, p.ticket);
  assert.equal(now.seat, to);
  assert.equal(now.c.extra_minutes, 10);
  assert.equal(now.c.incidents, 1, 'one flag however often pressed');
  assert.equal(now.c.flagged, true);
  for (const t of [t1, t2]) {
    assert.deepEqual(t.errors, []);
    await t.context().close();
  }
  assert.deepEqual(page.errors, []);
});

test('a PC that stops calling is 失联 on its tile and in the snapshot (the threshold a test knob)', async () => {
  /* 3 s instead of 30 (EXAMROOM_TEST_SILENT_SECONDS, read at serve's start). */
  await serve(0, { EXAMROOM_TEST_SILENT_SECONDS: '3' });
  await page.goto(`${base}/proctor`);
  await visible('#screen-login');
  await page.fill('#password', env.PROCTOR_PASSWORD);
  await page.press('#password', 'Enter');
  await visible('#screen-console');
  await page.locator('#feed-state', { hasText: '实时更新中' }).waitFor({ timeout: 10000 });
  const token = await page.evaluate(() => sessionStorage.getItem('examroom.proctor'));

  /* A terminal paired through the admin API; it calls once. */
  const r0 = await room();
  const seat = r0.seats.find((s) => !s.terminal).seat;
  const ask = await api(null, 'POST', '/api/v1/terminals');
  const code = ask.body.pairing_code;
  assert.equal((await api(token, 'POST', `/admin/v1/terminals/${code}/approve`, { seat })).status, 200);
  const term = (await api(ask.body.pairing_secret, 'GET', `/api/v1/terminals/${code}`)).body.terminal_token;
  const beat = () => api(term, 'GET', '/api/v1/terminal');
  assert.equal((await beat()).status, 200);
  const terminalOf = async () => (await room()).seats.find((s) => s.seat === seat).terminal;
  assert.equal((await terminalOf()).silent, false, 'just called: not silent');
  const tile = page.locator(`.tile[data-seat="${seat}"]`);
  await page.locator(`.tile[data-seat="${seat}"][data-silent="false"]`).waitFor({ timeout: 10000 });

  /* It stops calling: 失联, on the tile without a reload, and in the snapshot. */
  await page.locator(`.tile[data-seat="${seat}"][data-silent="true"]`).waitFor({ timeout: 10000 });
  assert.match(await tile.locator('.t-contact').innerText(), /^失联（\d\d:\d\d:\d\d）$/);
  const t = await terminalOf();
  assert.equal(t.silent, true);
  assert.ok(t.last_seen > 0);
  await shot('silent');

  /* It calls again: back, live. */
  assert.equal((await beat()).status, 200);
  await page.locator(`.tile[data-seat="${seat}"][data-silent="false"]`).waitFor({ timeout: 5000 });
  assert.match(await tile.locator('.t-contact').innerText(), /^联系 \d\d:\d\d:\d\d$/);
  assert.deepEqual(page.errors, []);
});
