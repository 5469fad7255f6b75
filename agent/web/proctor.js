/* The proctor console: login with the proctor password, the seat map from
 * GET /admin/v1/room kept live by the feed (GET /admin/v1/events), pairing
 * approvals and the actions on one candidate. Plain JS, no build step;
 * served with a CSP that allows no inline script or style.
 *
 * The feed takes only the Bearer header (EventSource cannot send one): it
 * is read with fetch() and a stream reader, and each "event: room" makes the
 * page read the room again. The snapshot is read again after every action
 * and every 30 s too (a move or an extension changes no summary). */
'use strict';

/* Every text the proctor sees, in one place. */
const T = {
  title: '监考控制台',
  loginTitle: '监考控制台登录',
  password: '监考密码',
  login: '登录',
  loggingIn: '正在核对…',
  needPassword: '请输入监考密码。',
  netError: '无法连接考场服务器，请检查网络或 examroom serve 是否在运行，然后重试。',
  expired: '登录已过期，请重新输入监考密码。',
  logout: '退出登录',
  feedOk: '实时更新中',
  feedDown: '实时连接中断，正在重连…',
  counts: [
    ['expected', '应到'],
    ['signed_in', '已签到'],
    ['running', '答题中'],
    ['submitted', '已交卷'],
    ['absent', '缺考'],
  ],
  state: {
    empty: '空座',
    unpaired: '未配对',
    paired: '已配对',
    registered: '已配对',
    signed_in: '已签到',
    running: '答题中',
    submitted: '已交卷',
    absent: '缺考',
  },
  sessionState: { locked: '未解锁', unlocked: '已解锁', running: '进行中', ended: '已结束' },
  session: (id, st) => `场次 ${id}：${st}`,
  unlockLabel: (id) => `场次 ${id} 开考密码`,
  unlock: '解锁',
  unlocking: '正在核对开考密码…',
  needCode: '请输入开考密码。',
  seat: (n) => `${n} 号`,
  answered: (n, total) => (total ? `已答 ${n}/${total}` : `已答 ${n} 题`),
  contact: (t) => `联系 ${t}`,
  silent: '失联',
  flagged: '考生报告信息有误',
  flaggedDetail: '考生在确认页报告身份信息有误，请到座位核对证件。',
  photoAlt: (name) => `${name} 的照片`,
  noPhoto: '照片无法显示',
  remaining: (t) => `剩余 ${t}`,
  pendingTitle: '待配对的终端',
  pendingNone: '没有待配对的终端。',
  pendingAt: (t) => `${t} 申请`,
  pendingReader: '座位阅读器：请选它所在电脑的座位',
  noReaderSeat: '没有可配阅读器的座位（座位需先配好考生机）',
  toSeat: '配到座位',
  approve: '批准',
  noFreeSeat: '没有空座位',
  approved: (code, seat) => `配对码 ${code} 已配到 ${seat} 号座位。`,
  reject: '拒绝',
  rejected: (code) => `已拒绝配对码 ${code}，该终端可以重新申请配对码。`,
  syncTitle: '与考试中心同步',
  lastContact: '最后联系',
  never: '从未联系',
  backlog: '待上传',
  backlogN: (n) => `${n} 条`,
  lastError: '最近错误',
  noError: '无',
  detailTitle: (seat, name) => `${seat} 号座位 · ${name}`,
  fields: {
    name: '姓名',
    ticket: '准考证号',
    session: '场次',
    state: '状态',
    answered: '已答',
    remaining: '剩余时间',
    extra: '已延时',
    incidents: '情况记录',
    flag: '考生报告',
    checkin: '入场核验',
  },
  minutes: (m) => `${m} 分钟`,
  count: (n) => `${n} 条`,
  none: '—',
  extendLabel: '延长（分钟）',
  moveLabel: '换到座位',
  incidentLabel: '情况说明',
  act: { extend: '延时', move: '换座', incident: '记录情况', absent: '缺考', submit: '代交卷' },
  close: '关闭',
  cancel: '取消',
  ok: '确定',
  who: (c) => `考生 ${c.name}（准考证号 ${c.ticket}，场次 ${c.session}）`,
  ask: {
    extend: (c, b) => `确定为${T.who(c)}延长 ${b.minutes} 分钟吗？`,
    move: (c, b) => `确定把${T.who(c)}调到 ${b.seat} 号座位吗？考生需要到新座位重新签到。`,
    incident: (c, b) => `确定为${T.who(c)}记录情况“${b.text}”吗？`,
    absent: (c) => `确定把${T.who(c)}记为缺考吗？记为缺考后不能再签到。`,
    submit: (c) => `确定为${T.who(c)}代交卷吗？交卷后不能再修改答案。`,
  },
  done: {
    extend: (c, r) => `已为${T.who(c)}延长 ${r.minutes} 分钟。`,
    move: (c, r) => `已把${T.who(c)}由 ${r.from} 号调到 ${r.seat} 号座位，请考生到新座位重新签到。`,
    incident: (c) => `已为${T.who(c)}记录情况。`,
    absent: (c) => `已把${T.who(c)}记为缺考。`,
    submit: (c) => `已为${T.who(c)}代交卷。`,
  },
  needMinutes: '请填写 1 至 120 分钟。',
  needSeat: '请选择一个空座位。',
  needText: '请写明情况。',
  failed: (status) => `操作没有完成（HTTP ${status}），请重试。`,
  checkedIn: (hm) => `已核验 ${hm}`,
  doorTitle: '入场核验（门口刷身份证）',
  doorWaiting: '请考生把身份证放到阅读器上。',
  doorSeat: (n) => `第 ${n} 号座位`,
  doorWho: (o) => `${o.name}　准考证号 ${o.ticket}　场次 ${o.session}`,
  doorRecent: '最近刷卡',
  doorNoReader: '没有配置身份证阅读器，门口请人工核验。',
  reader: (device) => `阅读器 ${device}：`,
  readerState: { connected: '已连接', absent: '未连接', error: '故障' },
  outcome: {
    checked_in: '核验通过',
    again: '已核验过',
    mismatch: '证件信息与名单不符',
    other_session: '不是本场次的考生',
    not_on_roster: '不在本考场名单上',
    too_early: '尚未开始入场',
    too_late: '已超过入场时间',
    absent: '已登记缺考',
    bad_card: '身份证号码无法识别',
    error: '核验结果未保存',
  },
};

const TOKEN_KEY = 'examroom.proctor';
const DOOR_KEEP = 10; /* door outcomes kept in the list */
/* Outcomes that send the candidate to a seat (the others refuse). */
const DOOR_SEATED = ['checked_in', 'again', 'mismatch'];
const REFRESH_MS = 30000;
const RECONNECT_MS = 2000;

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

let token = sessionStorage.getItem(TOKEN_KEY);
let room = null; /* the last snapshot */
let readAt = 0; /* when it was read (performance.now()) */
let shownSession = null;
let detail = null; /* {seat, candidate} shown in the dialog */
let feedAbort = null;
let refreshTimer = 0;
let doorSeen = []; /* the door's outcomes, latest first */

/* ---- calls ---- */

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  let doc = {};
  try {
    doc = await r.json();
  } catch (e) {
    doc = {};
  }
  if (r.status === 401 || (r.status === 403 && path.startsWith('/admin/'))) {
    showLogin(T.expired);
    throw new Error('logged out');
  }
  return { status: r.status, body: doc };
}

/* ---- login ---- */

function showLogin(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stopFeed();
  clearInterval(refreshTimer);
  closeDialogs();
  $('screen-console').hidden = true;
  $('screen-login').hidden = false;
  $('login-error').textContent = message || '';
  $('password').value = '';
  $('password').focus();
}

async function login(ev) {
  ev.preventDefault();
  const password = $('password').value;
  if (!password) {
    $('login-error').textContent = T.needPassword;
    return;
  }
  $('login-ok').disabled = true;
  $('login-error').textContent = T.loggingIn;
  try {
    const r = await fetch('/api/v1/proctor/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    const doc = await r.json().catch(() => ({}));
    if (r.status === 200 && doc.proctor_token) {
      token = doc.proctor_token;
      sessionStorage.setItem(TOKEN_KEY, token);
      $('login-error').textContent = '';
      showConsole();
    } else {
      /* The server's words: a wrong password, or the hold (429). */
      $('login-error').textContent = doc.message || T.failed(r.status);
    }
  } catch (e) {
    $('login-error').textContent = T.netError;
  } finally {
    $('login-ok').disabled = false;
  }
}

async function logout() {
  const t = token;
  showLogin('');
  if (t) {
    await fetch('/api/v1/proctor/logout', {
      method: 'POST',
      headers: { Authorization: `Bearer ${t}` },
    }).catch(() => {});
  }
}

/* ---- the room ---- */

async function refresh() {
  try {
    const r = await call('GET', '/admin/v1/room');
    if (r.status !== 200) return;
    room = r.body;
    readAt = performance.now();
    render();
  } catch (e) {
    if (token) $('feed-state').textContent = T.netError;
  }
}

function showConsole() {
  $('screen-login').hidden = true;
  $('screen-console').hidden = false;
  refresh();
  startFeed();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => token && refresh(), REFRESH_MS);
}

/* The session the map shows: the one picked, else the first not ended. */
function currentSession() {
  const list = (room && room.sessions) || [];
  if (shownSession && list.some((s) => s.id === shownSession)) return shownSession;
  const open = list.find((s) => s.state !== 'ended') || list[0];
  return open ? open.id : null;
}

const candidateOf = (seat, session) => seat.candidates.find((c) => c.session === session) || null;

function tileState(seat, c) {
  if (c && c.state !== 'registered') return c.state;
  if (seat.terminal) return 'paired';
  return c ? 'unpaired' : 'empty';
}

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const p = (n) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
}

/* Seconds left now: the snapshot's, less the time since it was read. */
function left(c) {
  if (c.remaining_seconds === null || c.remaining_seconds === undefined) return null;
  return c.remaining_seconds - (performance.now() - readAt) / 1000;
}

const localTime = (unix) =>
  new Date(unix * 1000).toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
const hourMinute = (unix) =>
  new Date(unix * 1000).toLocaleTimeString('zh-CN', {
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    timeZone: 'Asia/Shanghai',
  });

function render() {
  const session = currentSession();
  renderSessions(session);
  renderUnlock(session);
  renderCounts(session);
  renderSeats(session);
  renderPending();
  renderSync();
  renderReaders();
  if (detail) renderDetail();
}

function renderSessions(session) {
  const bar = $('sessions');
  bar.replaceChildren();
  for (const s of room.sessions) {
    const b = el('button', '', T.session(s.id, T.sessionState[s.state] || s.state));
    b.type = 'button';
    b.dataset.session = s.id;
    b.dataset.state = s.state;
    b.setAttribute('aria-pressed', String(s.id === session));
    b.addEventListener('click', () => {
      shownSession = s.id;
      render();
    });
    bar.append(b);
  }
}

/* The unlock bar: for the session shown, while it is not unlocked. */
function renderUnlock(session) {
  const s = room.sessions.find((x) => x.id === session);
  const bar = $('unlock-bar');
  const show = !!s && s.state === 'locked';
  if (bar.dataset.session !== session) $('unlock-code').value = '';
  bar.dataset.session = session || '';
  bar.hidden = !show;
  if (show) $('unlock-label').textContent = T.unlockLabel(s.id);
}

async function unlock(ev) {
  ev.preventDefault();
  const session = $('unlock-bar').dataset.session;
  const code = $('unlock-code').value.trim();
  if (!code) {
    say(T.needCode, true);
    return;
  }
  $('unlock-ok').disabled = true;
  say(T.unlocking);
  try {
    const r = await call('POST', `/admin/v1/sessions/${encodeURIComponent(session)}/unlock`, { code });
    /* The server's words either way: unlocked, a typo, a wrong code, a hold. */
    say(r.body.message || T.failed(r.status), r.status !== 200);
    if (r.status === 200) $('unlock-code').value = '';
  } catch (e) {
    if (token) say(T.netError, true);
  } finally {
    $('unlock-ok').disabled = false;
  }
  refresh();
}

function renderCounts(session) {
  const n = { expected: 0, signed_in: 0, running: 0, submitted: 0, absent: 0 };
  for (const seat of room.seats) {
    const c = candidateOf(seat, session);
    if (!c) continue;
    n.expected++;
    if (c.state in n) n[c.state]++;
  }
  /* Signed in counts everyone who came: those answering and done too. */
  n.signed_in += n.running + n.submitted;
  const box = $('counts');
  box.replaceChildren();
  for (const [k, word] of T.counts) {
    const s = el('span', '', `${word} `);
    s.dataset.count = k;
    s.append(el('b', '', String(n[k])));
    box.append(s);
  }
}

function renderSeats(session) {
  const box = $('seats');
  const focused = document.activeElement && document.activeElement.dataset.seat;
  box.replaceChildren();
  for (const seat of room.seats) {
    const c = candidateOf(seat, session);
    const state = tileState(seat, c);
    const b = el('button', `tile s-${state}`);
    b.type = 'button';
    b.dataset.seat = String(seat.seat);
    b.dataset.state = state;
    b.append(el('span', 't-seat', T.seat(seat.seat)));
    b.append(el('span', 't-name', c ? c.name : T.none));
    b.append(el('span', 't-state', T.state[state]));
    if (c && c.state !== 'registered' && c.state !== 'absent') {
      b.append(el('span', 't-answered', T.answered(c.answered, c.items)));
    }
    if (c && c.checked_in_at) {
      b.append(el('span', 't-checkin', T.checkedIn(hourMinute(c.checked_in_at))));
      b.dataset.checkedIn = 'true';
    }
    if (c && c.flagged) {
      b.append(el('span', 't-flag', T.flagged));
      b.dataset.flagged = 'true';
    }
    if (seat.terminal) {
      const t = seat.terminal;
      const w = el('span', t.silent ? 't-contact silent' : 't-contact');
      w.textContent = t.silent
        ? `${T.silent}${t.last_seen ? `（${localTime(t.last_seen)}）` : ''}`
        : T.contact(t.last_seen ? localTime(t.last_seen) : T.none);
      b.dataset.silent = String(!!t.silent);
      b.append(w);
    }
    const l = c ? left(c) : null;
    if (l !== null) b.append(el('span', 't-left', T.remaining(clock(l))));
    if (c) {
      b.dataset.ticket = c.ticket;
      b.addEventListener('click', () => openDetail(seat.seat, c.ticket, c.session));
    }
    else b.disabled = true;
    box.append(b);
    if (focused === b.dataset.seat) b.focus();
  }
}

/* Seats with no terminal: where a pairing can go. A seat's card reader
 * goes beside a paired terminal, one per seat. */
const seatsWithoutTerminal = () => room.seats.filter((s) => !s.terminal).map((s) => s.seat);
const seatsForReader = () =>
  room.seats.filter((s) => s.terminal && !s.card_reader).map((s) => s.seat);
/* Seats with no candidate of the session: where a candidate can move. */
const seatsWithoutCandidate = (session) =>
  room.seats.filter((s) => !candidateOf(s, session)).map((s) => s.seat);

function seatOptions(select, seats) {
  const was = select.value;
  select.replaceChildren();
  for (const n of seats) {
    const o = el('option', '', T.seat(n));
    o.value = String(n);
    select.append(o);
  }
  if (seats.map(String).includes(was)) select.value = was;
}

function renderPending() {
  const list = $('pending');
  const open = new Map(
    [...list.querySelectorAll('li')].map((li) => [li.dataset.code, li.querySelector('select').value]),
  );
  list.replaceChildren();
  const forTerminal = seatsWithoutTerminal();
  const forReader = seatsForReader();
  for (const p of room.pending) {
    const reader = p.device === 'reader';
    const free = reader ? forReader : forTerminal;
    const li = el('li');
    li.dataset.code = p.pairing_code;
    li.dataset.device = p.device || 'terminal';
    li.append(el('div', 'code', p.pairing_code));
    if (reader) li.append(el('div', '', T.pendingReader));
    li.append(el('div', 'muted', T.pendingAt(localTime(p.created_at))));
    const row = el('div', 'row');
    const sel = el('select');
    sel.setAttribute('aria-label', T.toSeat);
    seatOptions(sel, free);
    if (open.has(p.pairing_code) && free.map(String).includes(open.get(p.pairing_code))) {
      sel.value = open.get(p.pairing_code);
    }
    const b = el('button', 'primary', free.length ? T.approve : reader ? T.noReaderSeat : T.noFreeSeat);
    b.type = 'button';
    b.disabled = free.length === 0;
    b.addEventListener('click', () => approve(p.pairing_code, Number(sel.value)));
    const no = el('button', 'secondary', T.reject);
    no.type = 'button';
    no.dataset.reject = p.pairing_code;
    no.addEventListener('click', () => reject(p.pairing_code));
    row.append(sel, b, no);
    li.append(row);
    list.append(li);
  }
  $('pending-none').hidden = room.pending.length > 0;
}

function renderSync() {
  const s = room.sync || {};
  const box = $('sync');
  box.replaceChildren();
  const add = (k, v, bad) => {
    box.append(el('dt', '', k));
    const d = el('dd', bad ? 'bad' : '', v);
    box.append(d);
    return d;
  };
  add(T.lastContact, s.last_contact ? localTime(s.last_contact) : T.never).id = 'sync-contact';
  add(T.backlog, T.backlogN(s.backlog || 0)).id = 'sync-backlog';
  add(T.lastError, s.last_error_message || T.noError, !!s.last_error_message).id = 'sync-error';
}

function say(text, bad) {
  const m = $('message');
  m.textContent = text;
  m.classList.toggle('bad', !!bad);
  m.hidden = false;
}

async function approve(code, seat) {
  try {
    const r = await call('POST', `/admin/v1/terminals/${encodeURIComponent(code)}/approve`, { seat });
    if (r.status === 200) say(T.approved(code, r.body.seat));
    else say(r.body.message || T.failed(r.status), true);
  } catch (e) {
    if (token) say(T.netError, true);
  }
  refresh();
}

async function reject(code) {
  try {
    const r = await call('POST', `/admin/v1/terminals/${encodeURIComponent(code)}/reject`, {});
    if (r.status === 200) say(T.rejected(code));
    else say(r.body.message || T.failed(r.status), true);
  } catch (e) {
    if (token) say(T.netError, true);
  }
  refresh();
}

/* ---- one candidate ---- */

function findCandidate(ticket, session) {
  for (const seat of room.seats) {
    const c = seat.candidates.find((x) => x.ticket === ticket && x.session === session);
    if (c) return { seat: seat.seat, c };
  }
  return null;
}

/* The candidate's photo: fetched with the Bearer header (an <img> cannot
 * send it) and shown from a blob: URL, dropped when the dialog closes. */
let photoUrl = null;
function dropPhoto() {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = null;
  $('detail-photo').removeAttribute('src');
  $('detail-photo').hidden = true;
  $('detail-photo-none').textContent = '';
}

/* The package's photo of a candidate, as a blob (throws if there is none). */
async function fetchPhoto(ticket, session) {
  const r = await fetch(
    `/admin/v1/candidates/${encodeURIComponent(ticket)}/photo?session=${encodeURIComponent(session)}`,
    { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' },
  );
  if (r.status !== 200) throw new Error(`photo ${r.status}`);
  return r.blob();
}

async function loadPhoto(ticket, session, name) {
  dropPhoto();
  const img = $('detail-photo');
  img.alt = T.photoAlt(name);
  try {
    const blob = await fetchPhoto(ticket, session);
    if (!detail || detail.ticket !== ticket) return;
    photoUrl = URL.createObjectURL(blob);
    img.src = photoUrl;
    img.hidden = false;
  } catch (e) {
    if (detail && detail.ticket === ticket) $('detail-photo-none').textContent = T.noPhoto;
  }
}

function openDetail(seat, ticket, session) {
  detail = { ticket, session };
  $('detail-message').textContent = '';
  $('detail-message').classList.remove('bad');
  $('incident-text').value = '';
  renderDetail();
  const found = findCandidate(ticket, session);
  loadPhoto(ticket, session, found ? found.c.name : ticket);
  $('detail').hidden = false;
  $('act-extend').focus();
}

function renderDetail() {
  const found = findCandidate(detail.ticket, detail.session);
  if (!found) return;
  const { seat, c } = found;
  $('detail-title').textContent = T.detailTitle(seat, c.name);
  const info = $('detail-info');
  info.replaceChildren();
  const l = left(c);
  const rows = [
    ['name', c.name],
    ['ticket', c.ticket],
    ['session', c.session],
    ['state', T.state[tileState(room.seats.find((x) => x.seat === seat), c)]],
    ['answered', c.items ? `${c.answered}/${c.items}` : String(c.answered)],
    ['remaining', l === null ? T.none : clock(l)],
    ['extra', T.minutes(c.extra_minutes)],
    ['incidents', T.count(c.incidents)],
    ['checkin', c.checked_in_at ? T.checkedIn(hourMinute(c.checked_in_at)) : T.none],
  ];
  if (c.flagged) rows.push(['flag', T.flaggedDetail]);
  for (const [k, v] of rows) {
    info.append(el('dt', '', T.fields[k]));
    const d = el('dd', '', v);
    d.id = `detail-${k}`;
    info.append(d);
  }
  seatOptions($('move-seat'), seatsWithoutCandidate(c.session));
}

/* The body an action sends, or a message saying what is missing. */
function bodyOf(action, c) {
  const b = { session: c.session };
  if (action === 'extend') {
    const m = Number($('extend-minutes').value);
    if (!Number.isInteger(m) || m < 1 || m > 120) return T.needMinutes;
    b.minutes = m;
  } else if (action === 'move') {
    const s = Number($('move-seat').value);
    if (!s) return T.needSeat;
    b.seat = s;
  } else if (action === 'incident') {
    const t = $('incident-text').value.trim();
    if (!t) return T.needText;
    b.text = t;
  }
  return b;
}

function confirmAsk(text) {
  return new Promise((resolve) => {
    const box = $('confirm');
    const done = (v) => {
      box.hidden = true;
      $('confirm-ok').onclick = null;
      $('confirm-cancel').onclick = null;
      resolve(v);
    };
    $('confirm-text').textContent = text;
    $('confirm-ok').onclick = () => done(true);
    $('confirm-cancel').onclick = () => done(false);
    box.hidden = false;
    $('confirm-cancel').focus();
  });
}

async function act(action) {
  const found = detail && findCandidate(detail.ticket, detail.session);
  if (!found) return;
  const c = found.c;
  const out = $('detail-message');
  const b = bodyOf(action, c);
  if (typeof b === 'string') {
    out.textContent = b;
    out.classList.add('bad');
    return;
  }
  if (!(await confirmAsk(T.ask[action](c, b)))) {
    $(`act-${action}`).focus();
    return;
  }
  try {
    const r = await call('POST', `/admin/v1/candidates/${encodeURIComponent(c.ticket)}/${action}`, b);
    const ok = r.status === 200;
    out.textContent = ok ? T.done[action](c, r.body) : r.body.message || T.failed(r.status);
    out.classList.toggle('bad', !ok);
    if (ok) say(out.textContent);
  } catch (e) {
    if (token) {
      out.textContent = T.netError;
      out.classList.add('bad');
    }
  }
  await refresh();
  $(`act-${action}`).focus();
}

function closeDialogs() {
  detail = null;
  dropPhoto();
  $('detail').hidden = true;
  if (!$('confirm').hidden) $('confirm-cancel').click();
}

/* ---- the door ---- */

/* The readers' state (the snapshot's id_readers); the panel is shown when a
 * reader is configured or a card was read. */
function renderReaders() {
  const readers = room.id_readers || [];
  $('door').hidden = readers.length === 0 && doorSeen.length === 0;
  const list = $('door-readers');
  list.replaceChildren();
  if (readers.length === 0) list.append(el('li', 'muted', T.doorNoReader));
  for (const r of readers) {
    const li = el('li', '', T.reader(r.device));
    li.dataset.device = r.device;
    li.dataset.state = r.state;
    li.append(el('span', 'r-state', T.readerState[r.state] || r.state));
    if (r.message) li.append(el('span', 'r-message', `（${r.message}）`));
    list.append(li);
  }
}

/* The door's photo: the package's, from a blob: URL dropped at the next card. */
let doorPhotoUrl = null;
async function doorPhoto(o) {
  const img = $('door-photo');
  if (doorPhotoUrl) URL.revokeObjectURL(doorPhotoUrl);
  doorPhotoUrl = null;
  img.removeAttribute('src');
  img.hidden = true;
  if (!DOOR_SEATED.includes(o.outcome) || !o.ticket) return;
  img.alt = T.photoAlt(o.name);
  try {
    const blob = await fetchPhoto(o.ticket, o.session);
    if (doorSeen[0] !== o) return; /* another card came meanwhile */
    doorPhotoUrl = URL.createObjectURL(blob);
    img.src = doorPhotoUrl;
    img.hidden = false;
  } catch (e) {
    /* no photo in the package: the words stand alone */
  }
}

function renderDoor() {
  const o = doorSeen[0];
  const box = $('door-latest');
  const seated = !!o && DOOR_SEATED.includes(o.outcome) && o.seat > 0;
  box.dataset.outcome = o ? o.outcome : '';
  box.classList.toggle('refused', !!o && !seated);
  box.classList.toggle('mismatch', !!o && o.outcome === 'mismatch');
  $('door-seat').textContent = seated ? T.doorSeat(o.seat) : o ? T.outcome[o.outcome] || o.outcome : '';
  $('door-who').textContent = seated ? T.doorWho(o) : '';
  $('door-text').textContent = o ? o.text : T.doorWaiting;
  const list = $('door-recent');
  list.replaceChildren();
  for (const x of doorSeen) {
    const ok = x.outcome === 'checked_in' || x.outcome === 'again';
    const li = el(
      'li',
      ok ? '' : 'bad',
      [localTime(x.at), x.seat > 0 ? T.seat(x.seat) : T.none, x.name || T.none, T.outcome[x.outcome] || x.outcome].join('　'),
    );
    li.dataset.outcome = x.outcome;
    list.append(li);
  }
}

/* One "event: door" of the feed: a card read at a reader. */
function onDoor(data) {
  let o;
  try {
    o = JSON.parse(data);
  } catch (e) {
    return;
  }
  doorSeen = [o, ...doorSeen].slice(0, DOOR_KEEP);
  $('door').hidden = false;
  renderDoor();
  doorPhoto(o);
  refresh(); /* the tile's 已核验, the readers' state */
}

/* ---- the feed ---- */

function stopFeed() {
  if (feedAbort) feedAbort.abort();
  feedAbort = null;
}

async function startFeed() {
  stopFeed();
  const abort = new AbortController();
  feedAbort = abort;
  const state = $('feed-state');
  try {
    const r = await fetch('/admin/v1/events', {
      headers: { Authorization: `Bearer ${token}` },
      signal: abort.signal,
      cache: 'no-store',
    });
    if (r.status === 401 || r.status === 403) {
      showLogin(T.expired);
      return;
    }
    if (r.status !== 200 || !r.body) throw new Error(`feed ${r.status}`);
    state.textContent = T.feedOk;
    state.classList.remove('down');
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (event === 'room') refresh();
        else if (event === 'door') onDoor(data.join('\n'));
      }
    }
  } catch (e) {
    if (abort.signal.aborted) return;
  }
  if (feedAbort !== abort) return;
  state.textContent = T.feedDown;
  state.classList.add('down');
  setTimeout(() => {
    if (feedAbort === abort && token) startFeed();
  }, RECONNECT_MS);
}

/* ---- start ---- */

document.addEventListener('DOMContentLoaded', () => {
  document.title = T.title;
  $('login-title').textContent = T.loginTitle;
  $('password-label').textContent = T.password;
  $('login-ok').textContent = T.login;
  $('pc-title').textContent = T.title;
  $('logout').textContent = T.logout;
  $('pending-title').textContent = T.pendingTitle;
  $('pending-none').textContent = T.pendingNone;
  $('sync-title').textContent = T.syncTitle;
  $('door-title').textContent = T.doorTitle;
  $('door-recent-title').textContent = T.doorRecent;
  renderDoor();
  $('extend-label').textContent = T.extendLabel;
  $('move-label').textContent = T.moveLabel;
  $('incident-label').textContent = T.incidentLabel;
  for (const a of Object.keys(T.act)) {
    $(`act-${a}`).textContent = T.act[a];
    $(`act-${a}`).addEventListener('click', () => act(a));
  }
  $('detail-close').textContent = T.close;
  $('confirm-cancel').textContent = T.cancel;
  $('confirm-ok').textContent = T.ok;
  $('unlock-ok').textContent = T.unlock;
  $('unlock-bar').addEventListener('submit', unlock);
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('detail-close').addEventListener('click', closeDialogs);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (!$('confirm').hidden) $('confirm-cancel').click();
    else if (!$('detail').hidden) closeDialogs();
  });
  /* The remaining times count down between snapshots, in place. */
  setInterval(() => {
    if (!room || !token) return;
    const session = currentSession();
    for (const span of document.querySelectorAll('.tile .t-left')) {
      const found = findCandidate(span.parentElement.dataset.ticket, session);
      const l = found ? left(found.c) : null;
      if (l !== null) span.textContent = T.remaining(clock(l));
    }
  }, 1000);
  if (token) showConsole();
  else showLogin('');
});
