// The door panel of the proctor console (issue 14) in Debian's chromium:
// `examroom serve --id-reader` on the simulated reader (tests/idcard/
// simreader.c, its pty and control file in WORK), the proctor logged in.
// Cards put on the reader: one of a candidate on the roster (第 N 号座位,
// name, the package's photo, 已核验 on the tile and in the dialog), one of
// another session (its refusal), one with another name (the mismatch,
// highlighted); then the reader pulled out (its state in the panel). Set up
// by run.sh (EXAMROOM, ROOM_DATA, PLAN, ARTIFACTS, CHROMIUM, WORK,
// PROCTOR_PASSWORD) and tests/CMakeLists.txt (SIMREADER).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { room: daemon, cli, serve, stop, sleep, freePort, planRows, openBrowser } = require('./room.js');

const env = process.env;
const ART = env.ARTIFACTS;
const LINK = path.join(env.WORK, 'reader0');
const CTL = path.join(env.WORK, 'reader0.ctl');
let browser = null;
let page = null;
let sim = null;

/* What the simulated reader does from now: the whole control file, renamed
 * over the old one (simreader reads it every 50 ms). */
function ctl(...lines) {
  fs.writeFileSync(`${CTL}.new`, `${lines.join('\n')}\n`);
  fs.renameSync(`${CTL}.new`, CTL);
}

const rows = planRows().filter((c) => c[3] === '居民身份证' && c[8] === 'R01' && c[9] !== '');
const person = (c) => ({ ticket: c[0], name: c[1], id: c[4], session: c[7], seat: Number(c[9]) });
const first = rows.filter((c) => c[7] === 'S1').map(person);
const later = rows.filter((c) => c[7] !== 'S1').map(person);

const visible = (sel, timeout = 20000) => page.locator(sel).waitFor({ state: 'visible', timeout });
const textOf = (sel) => page.locator(sel).innerText();

before(async () => {
  assert.ok(env.SIMREADER, 'SIMREADER is set (tests/CMakeLists.txt)');
  assert.ok(first.length >= 2 && later.length >= 1, 'the plan has the candidates the test needs');
  ctl('mode=normal', 'plugged=1');
  sim = spawn(env.SIMREADER, [LINK, CTL], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(LINK); i++) await sleep(100);
  assert.ok(fs.existsSync(LINK), 'the simulated reader made its pty');
  daemon.port = await freePort();
  await serve(0, {}, ['--id-reader', LINK]);
  ({ browser, page } = await openBrowser());
});

after(async () => {
  if (browser) await browser.close();
  await stop();
  if (sim && sim.exitCode === null) {
    await new Promise((resolve) => {
      sim.on('exit', resolve);
      sim.kill('SIGTERM');
    });
  }
});

/* The card put on the reader; resolves when the panel shows OUTCOME for it
 * (the list grows by one). */
async function card(name, id, outcome) {
  const before = await page.locator('#door-recent li').count();
  ctl('mode=normal', 'plugged=1', `card=${name}|${id}`);
  await page.waitForFunction(
    ([n, o]) =>
      document.querySelectorAll('#door-recent li').length > n &&
      document.getElementById('door-latest').dataset.outcome === o,
    [before, outcome],
    { timeout: 15000 },
  );
}

test('the door panel: check-in with seat and photo, another session, a mismatch, the reader pulled out', async () => {
  await page.goto(`http://127.0.0.1:${daemon.port}/proctor`);
  await visible('#screen-login');
  await page.fill('#password', env.PROCTOR_PASSWORD);
  await page.press('#password', 'Enter');
  await visible('#screen-console');
  /* A reader is configured: the panel is there before any card, with it. */
  await visible('#door');
  const reader = page.locator(`#door-readers li[data-device="${LINK}"]`);
  await page.locator(`#door-readers li[data-device="${LINK}"][data-state="connected"]`).waitFor({ timeout: 15000 });
  assert.match(await reader.innerText(), /已连接/);
  assert.match(await textOf('#door-text'), /请考生把身份证放到阅读器上/);
  await page.locator('#feed-state', { hasText: '实时更新中' }).waitFor({ timeout: 10000 });

  /* A card of the later session: refused with its words, no seat. */
  const o = later[0];
  await card(o.name, o.id, 'other_session');
  assert.match(await textOf('#door-seat'), /不是本场次的考生/);
  assert.match(await textOf('#door-text'), new RegExp(`${o.name}（准考证号 ${o.ticket}）不是本场次的考生：其场次为 ${o.session}`));
  assert.ok(await page.locator('#door-latest.refused').isVisible());
  assert.equal(await page.locator('#door-photo').isVisible(), false);

  /* A card with the ID number of one on the roster and another name: the
   * seat, and the mismatch highlighted. */
  const m = first[1];
  await card('冒名者', m.id, 'mismatch');
  assert.equal(await textOf('#door-seat'), `第 ${m.seat} 号座位`);
  assert.match(await textOf('#door-text'), new RegExp(`证件信息与名单不符：姓名 冒名者（名单 ${m.name}）`));
  assert.ok(await page.locator('#door-latest.mismatch').isVisible());
  const bg = await page.locator('#door-text').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(255, 210, 77)', 'the mismatch is highlighted');

  /* A card of a candidate on the roster: 第 N 号座位, name, ticket,
   * session and the package's photo; the tile and the dialog say 已核验. */
  const p = first[0];
  await card(p.name, p.id, 'checked_in');
  assert.equal(await textOf('#door-seat'), `第 ${p.seat} 号座位`);
  const who = await textOf('#door-who');
  for (const w of [p.name, p.ticket, 'S1']) assert.ok(who.includes(w), `${w} in "${who}"`);
  await visible('#door-photo', 10000);
  assert.ok(await page.locator('#door-photo').evaluate((i) => i.complete && i.naturalWidth > 0), 'the photo is loaded');
  assert.equal(await page.locator('#door-photo').getAttribute('alt'), `${p.name} 的照片`);
  assert.equal(await page.locator('#door-latest.refused').count(), 0);
  const tile = page.locator(`.tile[data-seat="${p.seat}"][data-checked-in="true"]`);
  await tile.waitFor({ timeout: 10000 });
  assert.match(await tile.locator('.t-checkin').innerText(), /^已核验 \d\d:\d\d$/);
  await page.locator(`.tile[data-seat="${m.seat}"][data-checked-in="true"]`).waitFor({ timeout: 10000 });
  const list = await page.locator('#door-recent li').allInnerTexts();
  assert.equal(list.length, 3);
  assert.match(list[0], new RegExp(`^\\d\\d:\\d\\d:\\d\\d　${p.seat} 号　${p.name}　核验通过$`));
  assert.match(list[1], new RegExp(`${m.seat} 号　${m.name}　证件信息与名单不符`));
  assert.match(list[2], /不是本场次的考生/);
  await page.locator('#door').screenshot({ path: path.join(ART, 'door-checked-in.png') });

  await tile.click();
  await visible('#detail');
  assert.match(await textOf('#detail-checkin'), /^已核验 \d\d:\d\d$/);
  await page.click('#detail-close');

  /* The reader pulled out: its state in the panel, the page still live. */
  ctl('mode=normal', 'plugged=0');
  await page.locator(`#door-readers li[data-device="${LINK}"][data-state="absent"]`).waitFor({ timeout: 45000 });
  /* (阅读器已断开 at once; a second later, retried: 找不到设备.) */
  assert.match(await reader.innerText(), /：未连接（(阅读器已断开|未连接：找不到设备)/);
  await page.locator('#door').screenshot({ path: path.join(ART, 'door-unplugged.png') });
  assert.deepEqual(page.errors, []);
});

/* A seat's card reader (issue 14): `examroom card-reader` on the room PC
 * drives a second simulated reader, paired for the seat by the proctor;
 * the terminal at that seat fills in the ID number from the card lying on
 * it (read-only), and the sign-in takes it from the server. */
test("a seat's card reader fills in the terminal's sign-in", async () => {
  const p = first[2];
  assert.ok(p, 'a third candidate of S1');
  const link = path.join(env.WORK, 'reader1');
  const ctlFile = path.join(env.WORK, 'reader1.ctl');
  const seatCtl = (...lines) => {
    fs.writeFileSync(`${ctlFile}.new`, `${lines.join('\n')}\n`);
    fs.renameSync(`${ctlFile}.new`, ctlFile);
  };
  seatCtl('mode=normal', 'plugged=1');
  const sim2 = spawn(env.SIMREADER, [link, ctlFile], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(link); i++) await sleep(100);
  /* The seat's PC first: a reader goes beside a paired terminal. */
  const term = await page.context().newPage();
  await term.goto(`http://127.0.0.1:${daemon.port}/`);
  await term.locator('#screen-pairing').waitFor({ state: 'visible', timeout: 20000 });
  await term.waitForFunction(() => /\S/.test(document.getElementById('pair-code').textContent));
  cli('pair', 'approve', (await term.locator('#pair-code').innerText()).trim(), '--seat', String(p.seat));
  await term.locator('#screen-signin').waitFor({ state: 'visible', timeout: 20000 });
  let out = '';
  const bridge = spawn(
    env.EXAMROOM,
    ['--data', path.join(env.WORK, 'pc'), 'card-reader', '--server', `http://127.0.0.1:${daemon.port}`, '--device', link],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  bridge.stdout.on('data', (d) => (out += d));
  try {
    for (let i = 0; i < 100 && !/阅读器配对码：/.test(out); i++) await sleep(100);
    const code = /阅读器配对码：(\S+)/.exec(out)[1];
    /* The proctor approves it in the console, for the seat of its PC. */
    const pending = page.locator(`#pending li[data-code="${code}"][data-device="reader"]`);
    await pending.waitFor({ timeout: 15000 });
    assert.match(await pending.innerText(), /座位阅读器/);
    await page.screenshot({ path: path.join(ART, 'console-pending-reader.png') });
    await pending.locator('select').selectOption(String(p.seat));
    await pending.locator('button.primary').click();
    for (let i = 0; i < 100 && !/已配对/.test(out); i++) await sleep(100);
    assert.match(out, new RegExp(`已配对：本阅读器属于 ${p.seat} 号座位`));

    await term.locator('#card-state', { hasText: '请把身份证放在阅读器上' }).waitFor({ timeout: 15000 });
    assert.equal(await term.locator('#idnum').inputValue(), '');

    /* A card on the reader: the number filled in, masked, read-only. */
    const masked = `${p.id.slice(0, 6)}********${p.id.slice(14)}`;
    seatCtl('mode=normal', 'plugged=1', `card=${p.name}|${p.id}`);
    await term.locator('#card-state', { hasText: `已读取身份证：${p.name}` }).waitFor({ timeout: 15000 });
    assert.equal(await term.locator('#idnum').inputValue(), masked);
    assert.equal(await term.locator('#idnum').evaluate((e) => e.readOnly), true);
    await term.fill('#ticket', p.ticket);
    await term.screenshot({ path: path.join(ART, 'terminal-card.png') });

    /* 手工输入: the read set aside, the field the candidate's again. */
    await term.click('#card-manual');
    assert.equal(await term.locator('#idnum').inputValue(), '');
    assert.equal(await term.locator('#idnum').evaluate((e) => e.readOnly), false);
    await sleep(2500); /* polls go on: the set-aside read does not come back */
    assert.equal(await term.locator('#idnum').inputValue(), '');
    assert.equal(await term.locator('#card-manual').isVisible(), false);

    /* Put on again (a new read): filled again, and the sign-in by card. */
    seatCtl('mode=normal', 'plugged=1');
    await sleep(800);
    seatCtl('mode=normal', 'plugged=1', `card=${p.name}|${p.id}`);
    await term.waitForFunction((m) => document.getElementById('idnum').value === m, masked, { timeout: 15000 });
    await term.press('#ticket', 'Enter');
    await term.locator('#screen-confirm').waitFor({ state: 'visible', timeout: 15000 });
    assert.match(await term.locator('#screen-confirm').innerText(), new RegExp(p.name));
    await term.close();
  } finally {
    bridge.kill('SIGTERM');
    sim2.kill('SIGTERM');
  }
  assert.deepEqual(page.errors, []);
});
