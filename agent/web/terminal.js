/* The candidate terminal: pairing, sign-in, confirmation, waiting, the exam,
 * review, done. Plain JS, no build step; served with a CSP that allows no
 * inline script or style, so every handler is attached here.
 *
 * Never lose an answer: every change goes into a queue kept in localStorage
 * (per candidate token) with its rev, and is sent in order, one at a time,
 * until the server's 200 (durable); network errors and 5xx are retried with
 * backoff; a stale rev (409) takes the server's rev + 1 and resends the
 * candidate's latest choice. A reload restores the queue and carries on. */
'use strict';

/* Every text a candidate sees, in one place. */
const T = {
  pairTitle: '配对码',
  pairHint: '请举手，把配对码告诉监考老师。',
  pairAsking: '正在申请配对码…',
  pairWaiting: '等待监考老师确认配对…',
  pairGone: '配对已失效，正在重新申请配对码…',
  pairAgain: '重新申请配对码',
  signinTitle: '考生签到',
  signinSeat: (s) => `本机座位：${s} 号`,
  ticket: '准考证号',
  idnum: '证件号码',
  signin: '登录',
  signingIn: '正在登录…',
  cardHint: '请把身份证放在阅读器上（已放好的请取下再放一次），证件号码会自动填入；也可以手工输入。',
  cardManual: '手工输入',
  needFields: '请输入准考证号和证件号码。',
  idCheck: '证件号码校验位不对，请逐位核对',
  netError: '无法连接考场服务器，请稍候再试；如持续出现，请举手告知监考老师。',
  confirmTitle: '请核对您的信息',
  name: '姓名',
  occupation: '职业',
  level: '等级',
  session: '场次',
  seat: '座位',
  ticketShort: '准考证号',
  confirmOk: '信息无误，进入考试',
  confirmWrong: '信息有误，请举手',
  confirmWrongHint: '请举手，等待监考老师前来核对。核对之前请不要离开座位。',
  confirmFlagged: '已通知监考老师，请举手等候。核对无误后可以点击“信息无误，进入考试”。',
  confirmFlagFailed: '未能通知监考老师（网络或服务器故障），请直接举手示意。',
  photoAlt: '考生照片',
  waitTitle: '考试尚未开始',
  waitStart: (t) => `开考时间 ${t}（北京时间）`,
  waitIn: (t) => `距离开考还有 ${t}`,
  waitLocked: '已到开考时间，等待监考老师开考…',
  rulesTitle: '考场规则',
  rules: [
    '请将手机等通讯工具关机，放在指定位置。',
    '考试期间不得交谈，不得离开座位；有问题请举手。',
    '答案自动保存，无需另行操作。',
    '开考 30 分钟后方可交卷；时间到，系统自动交卷。',
  ],
  seatBar: (s) => `座位 ${s}`,
  remaining: '剩余时间',
  saved: '已保存',
  saving: '正在保存…',
  offline: '网络中断，答案暂存在本机，恢复后自动提交',
  warn15: '距离考试结束还有 15 分钟',
  warn5: '距离考试结束还有 5 分钟',
  itemNumber: (n, total) => `第 ${n} 题 / 共 ${total} 题`,
  types: { single: '单选题', multiple: '多选题', judge: '判断题' },
  points: (p) => `${p} 分`,
  flagged: '已标记',
  judge: { T: '正确', F: '错误' },
  keysSingle: '按 A、B、C、D 键选择；← → 键换题。',
  keysMultiple: '按 A、B、C、D 键选择或取消（可多选）；← → 键换题。',
  keysJudge: '按 T 或 1 选“正确”，按 F 或 2 选“错误”；← → 键换题。',
  prev: '上一题',
  next: '下一题',
  flag: '标记',
  unflag: '取消标记',
  toReview: '检查并交卷',
  navTitle: '题目导航',
  reviewTitle: '交卷前检查',
  reviewCounts: (a, u, f) => `已答 ${a} 题，未答 ${u} 题，已标记 ${f} 题`,
  reviewUnanswered: '未答的题（点击前往）',
  reviewFlagged: '已标记的题（点击前往）',
  reviewNone: '无',
  reviewBack: '返回作答',
  submit: '交卷',
  submitConfirm: '交卷后不能再修改答案，确定交卷吗？',
  submitOpens: (m, t) => `开考 ${m} 分钟后可以交卷（北京时间 ${t} 起），请继续检查答案。`,
  submitOk: '确定交卷',
  cancel: '取消',
  flushing: '正在保存最后的答案，请稍候…',
  flushWait: '答案还没有全部保存到考场服务器。网络恢复后会自动保存，之后再交卷。',
  doneTitle: '已交卷',
  doneTime: (t) => `交卷时间 ${t}（北京时间）`,
  doneHint: '请安静离开考场。',
  timeUp: '考试时间到，系统已自动交卷。',
  itemNoun: (n) => `第 ${n} 题`,
};

const API = '/api/v1';
const LS = {
  pairing: 'examroom.pairing',
  terminal: 'examroom.terminal',
  candidate: 'examroom.candidate',
  size: 'examroom.textsize',
  queue: (tok) => `examroom.queue.${tok}`,
  flags: (tok) => `examroom.flags.${tok}`,
};
const POLL_MS = 2000;
const RESYNC_MS = 30000;
const HEARTBEAT_MS = 10000; /* the proctor marks a PC silent for 30 s 失联 */
const CARD_POLL_MS = 1000; /* the seat's card reader, while the sign-in form shows */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 4000;

const $ = (id) => document.getElementById(id);

/* ---- storage ---- */

function load(key) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? null : JSON.parse(v);
  } catch (e) {
    return null;
  }
}

function save(key, value) {
  if (value === null || value === undefined) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
}

/* ---- the server ---- */

/* fetch with a JSON body and answer; throws on a network error only. */
async function call(method, path, token, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let data = {};
  try {
    data = await r.json();
  } catch (e) {
    data = {};
  }
  return { status: r.status, ok: r.ok, body: data };
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

/* ---- the clock: server time less local time ---- */

let clockOffset = 0;
function serverNow() {
  return Date.now() + clockOffset;
}
function setServerTime(ms) {
  if (typeof ms === 'number') clockOffset = ms - Date.now();
}
function hms(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const p = (n) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}
/* Beijing time (no daylight saving) of a time in ms. */
function beijing(ms, withDate) {
  const iso = new Date(ms + 8 * 3600 * 1000).toISOString();
  return withDate ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
}

/* ---- screens ---- */

const SCREENS = ['pairing', 'signin', 'confirm', 'waiting', 'exam', 'review', 'done'];
let screen = null;
function show(name) {
  screen = name;
  for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
  $('topbar').hidden = !['waiting', 'exam', 'review'].includes(name);
  document.body.dataset.screen = name;
}
function notice(text) {
  $('notice').textContent = text || '';
  $('notice').hidden = !text;
}

/* ---- identity numbers (GB 11643-1999) ---- */

/* Full-width digits and letters to ASCII, spaces dropped, upper case. */
function normalise(text) {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\s\u3000]/g, '')
    .toUpperCase();
}
function idCheckOk(id) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * w[i];
  return '10X98765432'[sum % 11] === id[17];
}

/* ---- pairing ---- */

let terminal = load(LS.terminal); /* {token, seat} */
let candidate = load(LS.candidate); /* {token, ticket, info, confirmed, submittedAt} */

/* Waits for the candidate or the proctor to press 重新申请配对码. */
function askAgain() {
  const b = $('pair-again');
  b.textContent = T.pairAgain;
  b.hidden = false;
  b.focus();
  return new Promise((resolve) => {
    b.onclick = () => {
      b.onclick = null;
      b.hidden = true;
      resolve();
    };
  });
}

async function pairing() {
  show('pairing');
  $('pair-title').textContent = T.pairTitle;
  $('pair-hint').textContent = T.pairHint;
  for (;;) {
    let p = load(LS.pairing);
    try {
      if (!p) {
        $('pair-code').textContent = '';
        $('pair-state').textContent = T.pairAsking;
        const r = await call('POST', '/terminals');
        if (!r.ok || !r.body.pairing_code) {
          $('pair-state').textContent = r.body.message || T.netError;
          await sleep(POLL_MS * 5);
          continue;
        }
        p = { code: r.body.pairing_code, secret: r.body.pairing_secret };
        save(LS.pairing, p);
      }
      $('pair-code').textContent = p.code;
      $('pair-state').textContent = T.pairWaiting;
      const r = await call('GET', `/terminals/${encodeURIComponent(p.code)}`, p.secret);
      if (r.status === 200 && r.body.terminal_token) {
        terminal = { token: r.body.terminal_token, seat: r.body.seat };
        save(LS.terminal, terminal);
        save(LS.pairing, null);
        return signin();
      }
      if (r.status === 410 && r.body.error === 'pairing_rejected') {
        /* Refused by the proctor: said so, and a new code only when asked. */
        $('pair-code').textContent = '';
        $('pair-hint').textContent = ''; /* no code to tell */
        $('pair-state').textContent = r.body.message;
        await askAgain();
        $('pair-hint').textContent = T.pairHint;
        save(LS.pairing, null);
        continue;
      }
      if (r.status === 404 || r.status === 410) {
        save(LS.pairing, null);
        $('pair-state').textContent = T.pairGone;
        await sleep(POLL_MS);
        continue;
      }
      if (r.status !== 202) $('pair-state').textContent = r.body.message || T.netError;
    } catch (e) {
      $('pair-state').textContent = T.netError;
    }
    await sleep(POLL_MS);
  }
}

/* ---- sign-in ---- */

/* The seat's ID card reader (examroom card-reader beside this PC): while
 * the form shows, the server is asked for the card read there. Its ID
 * number fills the form, masked and read-only; the sign-in then says
 * "card": true and the server takes the number from its own record of the
 * card, not from this page. 手工输入 sets that read aside (a card that is
 * not one's own, a reader gone wrong): the field is the candidate's again
 * until another card is read. One poll loop at a time: each sign-in screen
 * starts a new generation and the older loop ends. */
let cardFilled = false;
let cardIgnored = null; /* the read set aside by 手工输入 */
let cardGen = 0;
function setCard(card) {
  const field = $('idnum');
  const filled = !!(card && card.id_masked && card.read !== cardIgnored);
  if (filled) field.value = card.id_masked;
  else if (cardFilled) field.value = '';
  field.readOnly = filled;
  $('card-manual').hidden = !filled;
  cardFilled = filled;
}
function manualEntry() {
  if (!cardFilled) return;
  cardIgnored = $('card-manual').dataset.read || null;
  setCard(null);
  $('idnum').focus();
}
async function pollCard(gen) {
  while (screen === 'signin' && terminal && gen === cardGen) {
    try {
      const r = await call('GET', '/terminal/card', terminal.token);
      if (screen !== 'signin' || gen !== cardGen) return;
      const state = $('card-state');
      if (r.status === 200 && r.body.card_reader) {
        const card = r.body.card;
        state.hidden = false;
        state.textContent = card && card.read !== cardIgnored ? card.message : T.cardHint;
        $('card-manual').dataset.read = card ? card.read : '';
        setCard(card);
      } else {
        state.hidden = true;
        setCard(null);
      }
    } catch (e) {
      /* the network: the next poll */
    }
    await sleep(CARD_POLL_MS);
  }
}

let signinBusy = false;
function signin(message) {
  stopExam();
  show('signin');
  $('signin-title').textContent = T.signinTitle;
  $('signin-seat').textContent = terminal ? T.signinSeat(terminal.seat) : '';
  $('ticket-label').textContent = T.ticket;
  $('idnum-label').textContent = T.idnum;
  $('signin-button').textContent = T.signin;
  $('signin-error').textContent = message || '';
  $('ticket').focus();
  $('card-manual').textContent = T.cardManual;
  cardGen += 1;
  pollCard(cardGen);
}

async function submitSignin(ev) {
  ev.preventDefault();
  if (signinBusy) return;
  const ticket = normalise($('ticket').value);
  const typed = $('idnum').value;
  let id = normalise(typed);
  const err = $('signin-error');
  const byCard = cardFilled;
  if (!ticket || !id) {
    err.textContent = T.needFields;
    return;
  }
  if (byCard) {
    /* the server's card: nothing to check here */
  } else if (/^\d{17}[\dX]$/.test(id)) {
    if (!idCheckOk(id)) {
      err.textContent = T.idCheck;
      $('idnum').focus();
      return;
    }
  } else {
    id = typed; /* another document: as typed, the server folds it */
  }
  signinBusy = true;
  err.textContent = T.signingIn;
  try {
    const body = byCard ? { ticket, card: true } : { ticket, id_number: id };
    const r = await call('POST', '/signin', terminal.token, body);
    if (r.status === 200) {
      err.textContent = '';
      candidate = {
        token: r.body.candidate_token,
        ticket: r.body.candidate.ticket || ticket,
        info: r.body.candidate,
        session: r.body.session,
        confirmed: false,
      };
      adoptQueue(candidate.token, candidate.ticket);
      save(LS.candidate, candidate);
      $('ticket').value = '';
      $('idnum').value = '';
      setCard(null);
      confirmScreen();
    } else if (r.status === 401 && r.body.error === 'not_paired') {
      /* The proctor revoked this PC: pair again. */
      save(LS.terminal, null);
      terminal = null;
      err.textContent = '';
      notice(r.body.message);
      pairing();
    } else {
      err.textContent = r.body.message || T.netError;
    }
  } catch (e) {
    err.textContent = T.netError;
  } finally {
    signinBusy = false;
  }
}

/* ---- confirmation ---- */

/* 信息有误，请举手: the proctor sees a flag on the seat's tile (the server
 * records it once, however often it is pressed); the candidate may still
 * go on once the proctor has checked. */
async function flagDetails() {
  const msg = $('confirm-message');
  msg.textContent = T.confirmWrongHint;
  if (!candidate || !candidate.token) return;
  try {
    const r = await call('POST', '/flag', candidate.token);
    if (r.status === 200) msg.textContent = T.confirmFlagged;
    else if (r.status === 401) tokenEnded(r.body.message);
    else msg.textContent = T.confirmFlagFailed;
  } catch (e) {
    msg.textContent = T.confirmFlagFailed;
  }
}

async function confirmScreen() {
  show('confirm');
  $('confirm-title').textContent = T.confirmTitle;
  $('confirm-ok').textContent = T.confirmOk;
  $('confirm-wrong').textContent = T.confirmWrong;
  $('confirm-message').textContent = '';
  const c = candidate.info || {};
  const rows = [
    [T.name, c.name],
    [T.ticketShort, candidate.ticket],
    [T.occupation, c.occupation],
    [T.level, c.level],
    [T.session, candidate.session ? candidate.session.id : ''],
    [T.seat, `${c.seat} 号`],
  ];
  const dl = $('confirm-details');
  dl.textContent = '';
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v === undefined || v === null ? '' : String(v);
    dl.append(dt, dd);
  }
  const img = $('confirm-photo');
  img.alt = T.photoAlt;
  try {
    const r = await fetch(c.photo_url || `${API}/photo`, {
      headers: { Authorization: `Bearer ${candidate.token}` },
      cache: 'no-store',
    });
    if (r.ok) {
      /* The photo needs the candidate token, so no plain <img src>; the
       * server's CSP allows img-src 'self' data: (not blob:), so the
       * fetched bytes are shown as a data: URL. */
      const blob = await r.blob();
      img.src = await new Promise((resolve, reject) => {
        const fr = new FileReader();
        fr.onload = () => resolve(fr.result);
        fr.onerror = () => reject(fr.error);
        fr.readAsDataURL(blob);
      });
    }
  } catch (e) {
    /* no photo: the details are still there to check */
  }
  $('confirm-ok').focus();
}

/* ---- the exam ---- */

const ex = {
  doc: null, /* the last GET /exam */
  items: [],
  cur: 0,
  answers: {}, /* item -> latest local answer */
  revs: {}, /* item -> highest rev used or stored */
  saved: {}, /* item -> the server has the latest */
  flags: {},
  queue: [], /* [{item, answer, rev}] */
  pumping: false,
  offline: false,
  timer: null,
  resync: null,
  warned: 0,
  over: false,
};

function stopExam() {
  clearInterval(ex.timer);
  clearInterval(ex.resync);
  ex.timer = ex.resync = null;
}

function persistQueue() {
  if (candidate) save(LS.queue(candidate.token), { ticket: candidate.ticket, entries: ex.queue });
}
function persistFlags() {
  if (candidate) save(LS.flags(candidate.token), ex.flags);
}

/* A new sign-in (same person, same PC) takes over what the last token left
 * unsent: nothing typed is lost to a re-sign-in. */
function adoptQueue(token, ticket) {
  let entries = [];
  let flags = {};
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const key = localStorage.key(i);
    if (!key || !key.startsWith('examroom.queue.') || key === LS.queue(token)) continue;
    const q = load(key);
    const old = key.slice('examroom.queue.'.length);
    if (q && q.ticket === ticket) {
      entries = entries.concat(q.entries || []);
      flags = Object.assign(flags, load(LS.flags(old)) || {});
    }
    localStorage.removeItem(key);
    localStorage.removeItem(LS.flags(old));
  }
  if (entries.length) save(LS.queue(token), { ticket, entries });
  if (Object.keys(flags).length) save(LS.flags(token), flags);
}

/* GET /exam; handles a token that ended. Returns the body or null. */
async function readExam() {
  const r = await call('GET', '/exam', candidate.token);
  if (r.status === 200) {
    setServerTime(r.body.server_time);
    ex.doc = Object.assign(ex.doc || {}, r.body);
    return r.body;
  }
  if (r.status === 401) {
    tokenEnded(r.body.message);
    return null;
  }
  throw new Error(r.body.message || T.netError);
}

function tokenEnded(message) {
  stopExam();
  candidate = null;
  save(LS.candidate, null);
  signin(message);
}

/* Where a signed-in candidate is now. */
async function resume() {
  for (;;) {
    try {
      const doc = await readExam();
      if (!doc) return;
      return route(doc);
    } catch (e) {
      notice(T.netError);
      await sleep(POLL_MS);
    }
  }
}

function route(doc) {
  notice('');
  if (doc.state === 'submitted' || doc.state === 'ended') return finished(doc.state);
  if (!candidate.confirmed) return confirmScreen();
  if (doc.state === 'running' && doc.paper) return startExam(doc);
  return waiting(doc);
}

function fillBar() {
  const c = candidate.info || {};
  $('bar-seat').textContent = T.seatBar(c.seat);
  $('bar-name').textContent = c.name || '';
  $('bar-ticket').textContent = `${T.ticketShort} ${candidate.ticket}`;
  $('bar-clock-label').textContent = T.remaining;
}

async function waiting(doc) {
  show('waiting');
  fillBar();
  /* Before the start: the whole time the exam will last. */
  $('bar-clock-time').textContent = hms(doc.ends_at - doc.starts_at);
  $('wait-title').textContent = T.waitTitle;
  $('wait-start').textContent = T.waitStart(beijing(doc.starts_at * 1000, true));
  $('rules-title').textContent = T.rulesTitle;
  const ul = $('rules');
  ul.textContent = '';
  for (const line of T.rules) {
    const li = document.createElement('li');
    li.textContent = line;
    ul.append(li);
  }
  setStatus();
  stopExam();
  const tick = () => {
    const left = ex.doc.starts_at - serverNow() / 1000;
    $('wait-countdown').textContent = left > 0 ? T.waitIn(hms(left)) : T.waitLocked;
  };
  tick();
  ex.timer = setInterval(tick, 250);
  /* Ask every 2 s: the start (or the proctor's unlock) moves on by itself. */
  for (;;) {
    await sleep(POLL_MS);
    if (screen !== 'waiting' || !candidate) return;
    try {
      const d = await readExam();
      if (!d) return;
      notice('');
      if (d.state !== 'waiting') return route(d);
    } catch (e) {
      notice(T.netError);
    }
  }
}

function startExam(doc) {
  stopExam();
  ex.items = doc.paper.items || [];
  ex.over = false;
  ex.warned = 0;
  const stored = load(LS.queue(candidate.token));
  ex.queue = stored && stored.entries ? stored.entries : [];
  ex.flags = load(LS.flags(candidate.token)) || {};
  ex.answers = {};
  ex.revs = {};
  ex.saved = {};
  for (const [item, a] of Object.entries(doc.answers || {})) {
    ex.answers[item] = a.answer;
    ex.revs[item] = a.rev;
    ex.saved[item] = true;
  }
  /* Local changes not yet acknowledged win over the server's. */
  for (const e of ex.queue) {
    ex.answers[e.item] = e.answer;
    ex.revs[e.item] = Math.max(ex.revs[e.item] || 0, e.rev);
    ex.saved[e.item] = false;
  }
  if (ex.cur >= ex.items.length) ex.cur = 0;
  show('exam');
  fillBar();
  $('prev').textContent = T.prev;
  $('next').textContent = T.next;
  $('to-review').textContent = T.toReview;
  renderItem();
  renderNav();
  setStatus();
  tickClock();
  ex.timer = setInterval(tickClock, 250);
  ex.resync = setInterval(resync, RESYNC_MS);
  pump();
}

/* Every ~30 s: the server's time (drift), the end (an extension), and the
 * state (time up, submitted by the proctor). */
async function resync() {
  try {
    const d = await readExam();
    if (d && (d.state === 'submitted' || d.state === 'ended')) finished(d.state);
  } catch (e) {
    /* the queue shows the network state; try again next time */
  }
}

function remaining() {
  return ex.doc.ends_at - serverNow() / 1000;
}

function tickClock() {
  const left = remaining();
  const clock = $('bar-clock');
  $('bar-clock-time').textContent = hms(left);
  clock.classList.toggle('amber', left <= 15 * 60 && left > 5 * 60);
  clock.classList.toggle('red', left <= 5 * 60);
  if (left <= 15 * 60 && left > 5 * 60 && ex.warned < 1) {
    ex.warned = 1;
    notice(T.warn15);
  } else if (left <= 5 * 60 && left > 0 && ex.warned < 2) {
    ex.warned = 2;
    notice(T.warn5);
  }
  if (left <= 0 && !ex.over) {
    ex.over = true;
    endCheck();
  }
}

/* The clock ran out: the server submits; wait until it says so. */
async function endCheck() {
  for (let i = 0; i < 30 && candidate; i++) {
    try {
      const d = await readExam();
      if (!d) return;
      if (d.state === 'submitted' || d.state === 'ended') return finished(d.state);
      if (d.ends_at > serverNow() / 1000) {
        ex.over = false; /* extended */
        return;
      }
    } catch (e) {
      /* retry */
    }
    await sleep(POLL_MS);
  }
}

function itemIndex(id) {
  return ex.items.findIndex((it) => String(it.id) === String(id));
}

/* Options come as {"A": text, ...} (the plan's papers) or as a list. */
function optionKeys(it) {
  if (it.type === 'judge') return ['T', 'F'];
  const o = it.options || {};
  if (Array.isArray(o)) return o.map((_, i) => String.fromCharCode(65 + i));
  return Object.keys(o).sort();
}

function optionText(it, key, i) {
  if (it.type === 'judge') return T.judge[key];
  const o = it.options || {};
  const v = Array.isArray(o) ? o[i] : o[key];
  return v === undefined || v === null ? '' : String(v);
}

function renderItem() {
  const it = ex.items[ex.cur];
  if (!it) return;
  const id = String(it.id);
  $('item-number').textContent = T.itemNumber(ex.cur + 1, ex.items.length);
  $('item-type').textContent = T.types[it.type] || it.type;
  $('item-points').textContent = it.points !== undefined ? T.points(it.points) : '';
  $('item-flag').textContent = T.flagged;
  $('item-flag').hidden = !ex.flags[id];
  $('item-stem').textContent = it.stem || '';
  $('flag').textContent = ex.flags[id] ? T.unflag : T.flag;
  $('flag').setAttribute('aria-pressed', ex.flags[id] ? 'true' : 'false');
  $('prev').disabled = ex.cur === 0;
  $('next').disabled = ex.cur === ex.items.length - 1;
  $('item-keys').textContent =
    it.type === 'judge' ? T.keysJudge : it.type === 'multiple' ? T.keysMultiple : T.keysSingle;
  const box = $('item-options');
  box.textContent = '';
  const chosen = ex.answers[id] || '';
  optionKeys(it).forEach((key, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'option';
    b.dataset.key = key;
    b.setAttribute('role', it.type === 'multiple' ? 'checkbox' : 'radio');
    b.setAttribute('aria-checked', chosen.includes(key) ? 'true' : 'false');
    const k = document.createElement('span');
    k.className = 'option-key';
    k.textContent = key;
    const t = document.createElement('span');
    t.className = 'option-text';
    t.textContent = optionText(it, key, i);
    b.append(k, t);
    b.addEventListener('click', () => choose(key));
    box.append(b);
  });
}

function renderNav() {
  const nav = $('navigator');
  nav.textContent = '';
  const groups = {};
  ex.items.forEach((it, i) => {
    (groups[it.type] = groups[it.type] || []).push(i);
  });
  for (const type of Object.keys(groups)) {
    const h = document.createElement('h2');
    h.textContent = T.types[type] || type;
    const grid = document.createElement('div');
    grid.className = 'grid';
    for (const i of groups[type]) {
      const id = String(ex.items[i].id);
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'cell';
      b.textContent = String(i + 1);
      b.dataset.index = String(i);
      if (ex.answers[id]) b.classList.add('answered');
      if (ex.flags[id]) b.classList.add('flagged');
      if (i === ex.cur) {
        b.classList.add('current');
        b.setAttribute('aria-current', 'true');
      }
      b.setAttribute('aria-label', `${T.itemNoun(i + 1)}${ex.flags[id] ? `，${T.flagged}` : ''}`);
      b.addEventListener('click', () => go(i));
      grid.append(b);
    }
    nav.append(h, grid);
  }
}

function go(i) {
  if (i < 0 || i >= ex.items.length) return;
  if (screen === 'review') show('exam');
  ex.cur = i;
  renderItem();
  renderNav();
}

function choose(key) {
  const it = ex.items[ex.cur];
  if (!it || ex.over) return;
  const id = String(it.id);
  const old = ex.answers[id] || '';
  let answer;
  if (it.type === 'multiple') {
    const set = new Set(old.split('').filter(Boolean));
    if (set.has(key)) set.delete(key);
    else set.add(key);
    answer = [...set].sort().join('');
  } else {
    answer = old === key ? old : key;
  }
  if (answer === old) return;
  change(id, answer);
}

/* One change: into the queue (persisted) before anything else. */
function change(id, answer) {
  ex.answers[id] = answer;
  ex.revs[id] = (ex.revs[id] || 0) + 1;
  ex.saved[id] = false;
  ex.queue.push({ item: id, answer, rev: ex.revs[id] });
  persistQueue();
  renderItem();
  renderNav();
  setStatus();
  pump();
}

function setStatus() {
  const el = $('bar-status');
  let state = 'saved';
  if (ex.queue.length) state = ex.offline ? 'offline' : 'saving';
  el.textContent = state === 'saved' ? T.saved : state === 'saving' ? T.saving : T.offline;
  el.className = `status ${state}`;
  el.dataset.state = state;
}

/* Sends the queue in order, one at a time, until it is empty. */
async function pump() {
  if (ex.pumping) return;
  ex.pumping = true;
  let backoff = BACKOFF_MIN_MS;
  const token = candidate && candidate.token;
  try {
    while (ex.queue.length && candidate && candidate.token === token && !ex.over) {
      const e = ex.queue[0];
      let r;
      try {
        r = await call('PUT', `/answers/${encodeURIComponent(e.item)}`, token, {
          answer: e.answer,
          rev: e.rev,
        });
      } catch (err) {
        r = null;
      }
      if (!candidate || candidate.token !== token) return;
      if (r && r.status === 200) {
        ex.queue.shift();
        backoff = BACKOFF_MIN_MS;
        ex.offline = false;
        if (!ex.queue.some((q) => q.item === e.item)) ex.saved[e.item] = true;
        persistQueue();
      } else if (r && r.status === 409 && r.body.error === 'stale_rev') {
        /* The server has a newer rev (another page, a lost 200): the
         * candidate's last choice here wins, above the stored rev. */
        ex.queue.shift();
        const stored = r.body.rev || 0;
        ex.revs[e.item] = Math.max(ex.revs[e.item] || 0, stored);
        const later = ex.queue.filter((q) => q.item === e.item);
        if (later.length) {
          for (const q of later) {
            if (q.rev <= stored) q.rev = ++ex.revs[e.item];
          }
        } else if ((r.body.answer || '') !== (ex.answers[e.item] || '')) {
          ex.revs[e.item] = stored + 1;
          ex.queue.unshift({ item: e.item, answer: ex.answers[e.item] || '', rev: stored + 1 });
        } else {
          ex.saved[e.item] = true;
        }
        persistQueue();
      } else if (r && r.status === 401) {
        tokenEnded(r.body.message);
        return;
      } else if (r && (r.status === 423 || (r.status === 409 && r.body.error === 'submitted'))) {
        ex.over = true;
        await endCheck();
        return;
      } else if (r && (r.status === 400 || r.status === 404)) {
        /* Can never be stored as it is: said, and not retried forever. */
        ex.queue.shift();
        persistQueue();
        notice(r.body.message);
      } else {
        /* Network error, 5xx, 429: keep it and try again. */
        ex.offline = true;
        setStatus();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      setStatus();
      renderNav();
    }
  } finally {
    ex.pumping = false;
    if (screen === 'exam' || screen === 'review') setStatus();
  }
}

function toggleFlag() {
  const it = ex.items[ex.cur];
  if (!it) return;
  const id = String(it.id);
  if (ex.flags[id]) delete ex.flags[id];
  else ex.flags[id] = true;
  persistFlags();
  renderItem();
  renderNav();
}

/* ---- review and submit ---- */

function links(box, indices) {
  box.textContent = '';
  if (!indices.length) {
    box.textContent = T.reviewNone;
    return;
  }
  for (const i of indices) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = String(i + 1);
    b.setAttribute('aria-label', T.itemNoun(i + 1));
    b.addEventListener('click', () => go(i));
    box.append(b);
  }
}

function review() {
  show('review');
  const unanswered = [];
  const flagged = [];
  ex.items.forEach((it, i) => {
    if (!ex.answers[String(it.id)]) unanswered.push(i);
    if (ex.flags[String(it.id)]) flagged.push(i);
  });
  $('review-title').textContent = T.reviewTitle;
  $('review-counts').textContent = T.reviewCounts(
    ex.items.length - unanswered.length,
    unanswered.length,
    flagged.length,
  );
  $('review-unanswered-title').textContent = T.reviewUnanswered;
  $('review-flagged-title').textContent = T.reviewFlagged;
  links($('review-unanswered'), unanswered);
  links($('review-flagged'), flagged);
  $('review-message').textContent = '';
  $('review-back').textContent = T.reviewBack;
  $('review-submit').textContent = T.submit;
  submitGate();
  if ($('review-submit').disabled) $('review-back').focus();
  else $('review-submit').focus();
}

/* Before the earliest-submit time (the server's, from the exam's doc) 交卷
 * is disabled and the review says when it opens; checked every second
 * while the review is shown. */
function submitGate() {
  const at = ex.doc && ex.doc.earliest_submit_at;
  const early = typeof at === 'number' && serverNow() < at * 1000;
  const btn = $('review-submit');
  const wasDisabled = btn.disabled;
  btn.disabled = early;
  $('review-opens').textContent = early
    ? /* the minute it opens, never before: rounded up */
      T.submitOpens(ex.doc.earliest_submit_minutes, beijing(Math.ceil(at / 60) * 60000).slice(0, 5))
    : '';
  if (wasDisabled && !early && screen === 'review') btn.focus();
}

function ask(text, ok) {
  $('dialog-text').textContent = text;
  $('dialog-ok').textContent = T.submitOk;
  $('dialog-cancel').textContent = T.cancel;
  $('dialog').hidden = false;
  $('dialog-cancel').focus();
  const close = () => {
    $('dialog').hidden = true;
    $('dialog-ok').onclick = null;
    $('dialog-cancel').onclick = null;
  };
  $('dialog-ok').onclick = () => {
    close();
    ok();
  };
  $('dialog-cancel').onclick = () => {
    close();
    $('review-submit').focus();
  };
}

let submitting = false;
async function submit() {
  if (submitting) return;
  submitting = true;
  const msg = $('review-message');
  try {
    /* Every answer first: submitting flushes the queue. */
    if (ex.queue.length) {
      msg.textContent = T.flushing;
      pump();
      for (let i = 0; i < 40 && ex.queue.length && candidate; i++) await sleep(250);
      if (ex.queue.length) {
        msg.textContent = T.flushWait;
        return;
      }
    }
    if (!candidate) return;
    let r;
    try {
      r = await call('POST', '/submit', candidate.token);
    } catch (e) {
      msg.textContent = T.netError;
      return;
    }
    if (r.status === 200) {
      candidate.submittedAt = serverNow();
      save(LS.candidate, candidate);
      finished('submitted');
    } else if (r.status === 401) {
      tokenEnded(r.body.message);
    } else {
      msg.textContent = r.body.message || T.netError;
    }
  } finally {
    submitting = false;
  }
}

function finished() {
  stopExam();
  ex.over = true;
  show('done');
  const own = candidate && candidate.submittedAt;
  /* Not submitted from this page: the time ran out (or the proctor
   * submitted for them). */
  $('done-title').textContent = own ? T.doneTitle : T.timeUp;
  $('done-time').textContent = own ? T.doneTime(beijing(candidate.submittedAt)) : '';
  $('done-hint').textContent = T.doneHint;
  notice('');
  if (candidate) {
    save(LS.queue(candidate.token), null);
    save(LS.flags(candidate.token), null);
  }
}

/* ---- keys, text size, start ---- */

function onKey(ev) {
  if (!$('dialog').hidden) {
    if (ev.key === 'Escape') $('dialog-cancel').click();
    return;
  }
  if (screen !== 'exam' || ev.ctrlKey || ev.altKey || ev.metaKey) return;
  const it = ex.items[ex.cur];
  if (!it) return;
  const k = ev.key.toUpperCase();
  let key = null;
  if (it.type === 'judge') {
    if (k === 'T' || k === '1') key = 'T';
    else if (k === 'F' || k === '2') key = 'F';
  } else if (/^[A-Z]$/.test(k) && optionKeys(it).includes(k)) {
    key = k;
  }
  if (key) {
    ev.preventDefault();
    choose(key);
  } else if (ev.key === 'ArrowLeft') {
    ev.preventDefault();
    go(ex.cur - 1);
  } else if (ev.key === 'ArrowRight') {
    ev.preventDefault();
    go(ex.cur + 1);
  }
}

function setSize(n) {
  document.documentElement.dataset.size = String(n);
  save(LS.size, n);
  for (const b of document.querySelectorAll('.size'))
    b.setAttribute('aria-pressed', b.dataset.size === String(n) ? 'true' : 'false');
}

function init() {
  document.title = T.signinTitle;
  $('sizes').setAttribute('aria-label', '字号');
  for (const b of document.querySelectorAll('.size'))
    b.addEventListener('click', () => setSize(Number(b.dataset.size)));
  setSize(load(LS.size) || 0);
  $('signin-form').addEventListener('submit', submitSignin);
  $('card-manual').addEventListener('click', manualEntry);
  $('confirm-ok').addEventListener('click', () => {
    candidate.confirmed = true;
    save(LS.candidate, candidate);
    resume();
  });
  $('confirm-wrong').addEventListener('click', flagDetails);
  $('prev').addEventListener('click', () => go(ex.cur - 1));
  $('next').addEventListener('click', () => go(ex.cur + 1));
  $('flag').addEventListener('click', toggleFlag);
  $('to-review').addEventListener('click', review);
  $('review-back').addEventListener('click', () => go(ex.cur));
  $('review-submit').addEventListener('click', () => ask(T.submitConfirm, submit));
  document.addEventListener('keydown', onKey);
  /* No copying the paper, no context menu. */
  for (const ev of ['copy', 'cut', 'contextmenu', 'selectstart', 'dragstart'])
    document.addEventListener(ev, (e) => {
      if (!(e.target instanceof HTMLInputElement)) e.preventDefault();
    });
  /* The network back: send what waits. */
  window.addEventListener('online', () => pump());
  /* A paired PC says it is alive on every screen (the console's last
   * contact); what it answers changes nothing here. */
  setInterval(() => {
    if (terminal && terminal.token) call('GET', '/terminal', terminal.token).catch(() => {});
  }, HEARTBEAT_MS);
  setInterval(() => {
    if (screen === 'review') submitGate();
  }, 1000);

  if (candidate && candidate.token) return resume();
  if (terminal && terminal.token) return signin();
  return pairing();
}

document.addEventListener('DOMContentLoaded', init);
