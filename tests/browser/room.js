// The room under a browser test (set up by run.sh): the proctor's CLI, and
// `examroom serve` started, stopped and restarted on one port (the page's
// origin, so its localStorage, stays the same across restarts).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const env = process.env;

/* The plan's candidates.csv as rows of fields (the generated plan has no
 * quoted fields): ticket, name, ..., id type [3], id [4], ..., session [7],
 * room [8], seat [9]. */
function planRows() {
  return fs
    .readFileSync(path.join(env.PLAN, 'candidates.csv'), 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cli(...args) {
  return execFileSync(env.EXAMROOM, ['--data', env.ROOM_DATA, ...args], { encoding: 'utf8' });
}

/* The reference center's CLI (its data beside the room's): unlock codes. */
function center(...args) {
  return execFileSync(env.EXAMCENTER, ['--data', env.CENTER_DATA, ...args], { encoding: 'utf8' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

let daemon = null;
const room = { port: 0 };

/* Stops the daemon with SIGNAL (SIGTERM: a clean stop; SIGKILL: a crash). */
function stop(signal = 'SIGTERM') {
  const child = daemon;
  daemon = null;
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.on('exit', () => resolve());
    child.kill(signal);
  });
}

/* (Re)starts the daemon on room.port (a free one the first time), its exam
 * clock OFFSET seconds ahead, with EXTRA in its environment (test knobs) and
 * ARGS after serve's own (--id-reader ...); resolves once it says it is
 * listening. */
async function serve(offset = 0, extra = {}, args = []) {
  await stop('SIGTERM');
  if (!room.port) room.port = await freePort();
  const log = fs.openSync(path.join(env.WORK, 'room.log'), 'a');
  for (let attempt = 0; attempt < 20; attempt++) {
    const child = spawn(
      env.EXAMROOM,
      ['--data', env.ROOM_DATA, 'serve', '--listen', `127.0.0.1:${room.port}`, ...args],
      {
        env: { ...env, ...extra, EXAMROOM_CLOCK_OFFSET: String(Math.round(offset)) },
        stdio: ['ignore', 'pipe', log],
      },
    );
    const ok = await new Promise((resolve) => {
      let out = '';
      const timer = setTimeout(() => resolve(false), 30000);
      child.stdout.on('data', (b) => {
        out += b;
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ok) {
      daemon = child;
      return;
    }
    child.kill('SIGKILL');
    await sleep(250); /* the port still held by the last one */
  }
  throw new Error('examroom serve did not start');
}

/* Debian's chromium (CHROMIUM), and a page on it at 1024x768 in zh-CN,
 * Beijing time, whose script errors and CSP refusals collect in
 * page.errors (a test ends asserting it is empty). */
async function openBrowser() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: env.CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext({
    viewport: { width: 1024, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/.test(m.text())) page.errors.push(m.text());
  });
  if (env.BROWSER_DEBUG) page.on('console', (m) => console.error(`page: ${m.text()}`));
  return { browser, page };
}

module.exports = { room, cli, center, serve, stop, sleep, freePort, planRows, openBrowser };
