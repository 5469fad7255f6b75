// PERFORMANCE.md P1's peer: the answer endpoint as a typical team would
// write it (Node.js 20, better-sqlite3, WAL, synchronous=FULL), with the
// same semantics as `examroom serve`: the bearer token (its SHA-256 looked
// up) gives the candidate; PUT /api/v1/answers/{item} {"answer", "rev"}
// answers 200 once the row is committed (better-sqlite3 commits
// synchronously, one transaction per request), 409 with the stored answer
// and rev when the rev is not newer, 401 without a known token.
//   node server.js DB_FILE TOKENS_OUT CANDIDATES
// Creates CANDIDATES candidates, writes one token a line to TOKENS_OUT, and
// prints "listening on 127.0.0.1:PORT" once it listens.
'use strict';
const http = require('http');
const crypto = require('crypto');
const Database = require('better-sqlite3');
const fs = require('fs');

const [dbFile, tokensOut, count] = process.argv.slice(2);
const db = new Database(dbFile);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(`CREATE TABLE IF NOT EXISTS candidates (id INTEGER PRIMARY KEY, token_hash BLOB UNIQUE NOT NULL,
                                               state TEXT NOT NULL DEFAULT 'signed_in');
         CREATE TABLE IF NOT EXISTS answers (candidate_id INTEGER NOT NULL, item TEXT NOT NULL,
                                            answer TEXT NOT NULL, rev INTEGER NOT NULL,
                                            PRIMARY KEY (candidate_id, item));`);
const sha = (t) => crypto.createHash('sha256').update(t).digest();
const tokens = [];
const add = db.prepare('INSERT INTO candidates (token_hash) VALUES (?)');
db.transaction(() => {
  for (let i = 0; i < Number(count); i++) {
    const t = crypto.randomBytes(32).toString('hex');
    add.run(sha(t));
    tokens.push(t);
  }
})();
fs.writeFileSync(tokensOut, tokens.join('\n') + '\n');

const byToken = db.prepare('SELECT id, state FROM candidates WHERE token_hash = ?');
const stored = db.prepare('SELECT answer, rev FROM answers WHERE candidate_id = ? AND item = ?');
const put = db.prepare(`INSERT INTO answers (candidate_id, item, answer, rev) VALUES (?, ?, ?, ?)
                        ON CONFLICT (candidate_id, item) DO UPDATE SET answer = excluded.answer,
                        rev = excluded.rev WHERE excluded.rev > answers.rev`);
const save = db.transaction((id, item, answer, rev) => {
  if (put.run(id, item, answer, rev).changes === 1) return null;
  return stored.get(id, item);
});

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/v1/time') return send(res, 200, { now: Date.now() });
  const m = /^\/api\/v1\/answers\/([A-Za-z0-9_-]{1,32})$/.exec(req.url);
  if (req.method !== 'PUT' || !m) return send(res, 404, { error: 'not_found' });
  const auth = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
  const c = auth && byToken.get(sha(auth[1]));
  if (!c) return send(res, 401, { error: 'not_signed_in' });
  if (c.state !== 'signed_in') return send(res, 409, { error: 'submitted' });
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    let b;
    try {
      b = JSON.parse(Buffer.concat(chunks).toString());
    } catch (e) {
      return send(res, 400, { error: 'bad_answer' });
    }
    if (typeof b.answer !== 'string' || b.answer.length > 64 || !Number.isInteger(b.rev))
      return send(res, 400, { error: 'bad_answer' });
    const was = save(c.id, m[1], b.answer, b.rev);
    if (was) return send(res, 409, { error: 'stale_rev', item: m[1], rev: was.rev, answer: was.answer });
    send(res, 200, { item: m[1], rev: b.rev });
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
