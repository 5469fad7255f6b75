/* The console's reports panel (the console's item 7): for each session,
 * 签到表 / 成绩报表 / 考勤表, each to print or to download as CSV, from
 * GET /admin/v1/reports/{kind}?session=S&format=html|csv with the proctor's
 * token (read from sessionStorage, as proctor.js keeps it).
 *
 * 打印 opens a window at once (so that no popup blocker takes it for an
 * unasked one), fetches the HTML report and shows it there from a blob: URL.
 * A blob: page keeps this page's CSP, which allows no inline style: the
 * report's own <style> is then not applied, so a link to the same
 * stylesheet, /static/report.css (allowed: 'self'), is put in its head.
 * 下载 CSV fetches the file and saves it under the server's file name.
 * Plain JS in its own scope: proctor.js's names are not touched. */
'use strict';

(() => {
  /* Every text the proctor sees here, in one place. */
  const T = {
    title: '报表',
    kinds: { signin: '签到表', scores: '成绩报表', attendance: '考勤表' },
    sessionHead: '场次',
    session: (id) => `场次 ${id}`,
    print: '打印',
    download: '下载 CSV',
    printLabel: (kind, id) => `打印${kind}（场次 ${id}）`,
    downloadLabel: (kind, id) => `下载${kind} CSV（场次 ${id}）`,
    none: '还没有场次：请先在考场服务器上下载试卷包（examroom fetch）。',
    loading: '正在生成报表…',
    opened: (kind) => `${kind}已在新窗口打开，请在该窗口中打印（Ctrl+P）。`,
    saved: (name) => `已下载 ${name}。`,
    popup: '浏览器阻止了新窗口。请允许本页打开弹出窗口后重试。',
    expired: '登录已过期，请重新登录监考控制台。',
    netError: '无法连接考场服务器，请检查网络或 examroom serve 是否在运行，然后重试。',
    failed: (status) => `报表没有生成（HTTP ${status}），请重试。`,
  };
  const TOKEN_KEY = 'examroom.proctor';
  const KINDS = ['signin', 'scores', 'attendance'];

  const $ = (id) => document.getElementById(id);
  const say = (text) => {
    $('reports-message').textContent = text || '';
  };

  /* The report's bytes, or an Error whose message the proctor reads. */
  async function fetchReport(kind, session, format) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    let r;
    try {
      r = await fetch(
        `/admin/v1/reports/${kind}?session=${encodeURIComponent(session)}&format=${format}`,
        { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' },
      );
    } catch (e) {
      throw new Error(T.netError);
    }
    if (r.status === 401 || r.status === 403) throw new Error(T.expired);
    if (!r.ok) {
      let message = T.failed(r.status);
      try {
        message = (await r.json()).message || message;
      } catch (e) {
        /* no JSON: the status says it */
      }
      throw new Error(message);
    }
    return r;
  }

  async function print(kind, session) {
    /* Opened now, in the click, filled once the report is in. */
    const w = window.open('', '_blank');
    if (!w) {
      say(T.popup);
      return;
    }
    say(T.loading);
    try {
      const r = await fetchReport(kind, session, 'html');
      const css = `<link rel="stylesheet" href="${location.origin}/static/report.css">`;
      const html = (await r.text()).replace('</head>', `${css}</head>`);
      const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
      w.location.href = url;
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(T.opened(T.kinds[kind]));
    } catch (e) {
      w.close();
      say(e.message);
    }
  }

  /* The file name of "Content-Disposition: ...; filename*=UTF-8''NAME". */
  function fileName(r, kind, session) {
    const cd = r.headers.get('Content-Disposition') || '';
    const m = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    if (m) {
      try {
        return decodeURIComponent(m[1]);
      } catch (e) {
        /* a name that does not decode: ours below */
      }
    }
    return `${T.kinds[kind]}-${session}.csv`;
  }

  async function download(kind, session) {
    say(T.loading);
    try {
      const r = await fetchReport(kind, session, 'csv');
      const name = fileName(r, kind, session);
      const url = URL.createObjectURL(await r.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(T.saved(name));
    } catch (e) {
      say(e.message);
    }
  }

  function button(text, label, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = text;
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }

  /* A table: one row a session, one column a report, two buttons each. */
  function show(sessions) {
    const list = $('reports-list');
    list.replaceChildren();
    if (sessions.length === 0) {
      say(T.none);
      return;
    }
    const table = document.createElement('table');
    table.className = 'report-table';
    const head = table.createTHead().insertRow();
    for (const text of [T.sessionHead, ...KINDS.map((k) => T.kinds[k])]) {
      const th = document.createElement('th');
      th.textContent = text;
      head.append(th);
    }
    const body = table.createTBody();
    for (const s of sessions) {
      const row = body.insertRow();
      row.insertCell().textContent = T.session(s.id);
      for (const kind of KINDS) {
        row.insertCell().append(
          button(T.print, T.printLabel(T.kinds[kind], s.id), () => print(kind, s.id)),
          ' ',
          button(T.download, T.downloadLabel(T.kinds[kind], s.id), () => download(kind, s.id)),
        );
      }
    }
    list.append(table);
  }

  /* The sessions, from the console's snapshot. */
  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return;
    try {
      const r = await fetch('/admin/v1/room', {
        headers: { Authorization: `Bearer ${token}` },
        cache: 'no-store',
      });
      if (!r.ok) return; /* proctor.js says what is wrong with the login */
      const room = await r.json();
      show((room.sessions || []).map((s) => ({ id: s.id })));
    } catch (e) {
      say(T.netError);
    }
  }

  function start() {
    $('reports-title').textContent = T.title;
    const screen = $('screen-console');
    /* Loaded each time the console is shown (after a login). */
    new MutationObserver(() => {
      if (!screen.hidden) load();
    }).observe(screen, { attributes: true, attributeFilter: ['hidden'] });
    if (!screen.hidden) load();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
