// The Socket.IO engine as real clients see it, against build/conformance-server
// (the engine plus the official suites' echo handlers), independent of the app.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { client, onceEvent, cleanup, waitFor, stopProcess } from './harness.mjs';
import {
  startConformance, rawWs, rawSocketIo, pollingHandshake, pollUrl, tcpSend, sleep,
} from './lib/protocol.mjs';

const ioV2 = createRequire(import.meta.url)('socket.io-client-v2');
let server;

before(async () => {
  // pingInterval 300 ms as the official suites use, but a 1 s pingTimeout so a
  // busy CI machine does not drop well-behaved clients by accident.
  server = await startConformance({ args: ['--worker-name', 'w7', '--send-queue-max', '1000000',
    '--ping-interval', '300', '--ping-timeout', '1000'] });
});
after(cleanup);

/** The reason of a 'disconnect' (socket.io-client passes (reason, details)). */
const reasonOf = (r) => (Array.isArray(r) ? r[0] : r);

/** Emits with an ack callback; resolves with every argument of the ack. */
function ackAll(s, ev, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(3000).emit(ev, ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
  });
}

/** A client still gets answers: emit with ack and a message-back. */
async function assertServes(opts = {}) {
  const s = client(server.url, opts);
  await onceEvent(s, 'connect');
  const ack = await ackAll(s, 'message-with-ack', 1, 'two', { three: [true] });
  assert.deepEqual(ack, [1, 'two', { three: [true] }]);
  s.close();
}

async function stats() {
  const s = client(server.url);
  await onceEvent(s, 'connect');
  const st = await s.timeout(3000).emitWithAck('stats');
  s.close();
  return st;
}

describe('a socket.io-client v4 connects, emits and gets acks', () => {
  for (const [name, opts, transport] of [
    ['websocket only', { transports: ['websocket'] }, 'websocket'],
    ['polling only', { transports: ['polling'] }, 'polling'],
    ['default: polling, then upgraded to websocket', {}, 'websocket'],
  ]) {
    test(name, async () => {
      const s = client(server.url, opts);
      const auth = onceEvent(s, 'auth');
      await onceEvent(s, 'connect');
      assert.deepEqual(await auth, {});
      if (transport === 'websocket' && s.io.engine.transport.name !== 'websocket') {
        await onceEvent(s.io.engine, 'upgrade'); // may already have happened
      }
      assert.equal(s.io.engine.transport.name, transport);
      const back = onceEvent(s, 'message-back');
      s.emit('message', 'hello', { n: 1 });
      assert.deepEqual(await back, ['hello', { n: 1 }]);
      const ack = await ackAll(s, 'message-with-ack', 'x', [1, 2, 3]);
      assert.deepEqual(ack, ['x', [1, 2, 3]]);
      const st = await s.timeout(3000).emitWithAck('stats');
      assert.equal(st.transport, transport);
      assert.equal(st.peer, '127.0.0.1');
      s.close();
    });
  }

  test('binary attachments round-trip', async () => {
    const s = client(server.url, { transports: ['websocket'] });
    await onceEvent(s, 'connect');
    const back = onceEvent(s, 'message-back');
    s.emit('message', Buffer.from([1, 2, 3]), 'text');
    const [buf, text] = await back;
    assert.deepEqual([...buf], [1, 2, 3]);
    assert.equal(text, 'text');
    s.close();
  });

  test('the auth payload of CONNECT reaches the server', async () => {
    const s = client(server.url, { auth: { token: 'abc' } });
    const auth = onceEvent(s, 'auth');
    await onceEvent(s, 'connect');
    assert.deepEqual(await auth, { token: 'abc' });
    s.close();
  });
});

describe('legacy socket.io-client 2.x (Engine.IO v3) is served', () => {
  const v2s = [];
  after(() => { for (const s of v2s) s.close(); });
  for (const [name, opts, transport] of [
    ['websocket only', { transports: ['websocket'] }, 'websocket'],
    ['polling only', { transports: ['polling'] }, 'polling'],
    ['default: polling, then upgraded', {}, 'websocket'],
  ]) {
    test(name, async () => {
      const s = ioV2(server.url, { reconnection: false, forceNew: true, ...opts });
      v2s.push(s);
      const auth = onceEvent(s, 'auth');
      await onceEvent(s, 'connect');
      assert.deepEqual(await auth, {});
      const ack = await new Promise((resolve) => s.emit('message-with-ack', 'a', { b: 1 }, (...r) => resolve(r)));
      assert.deepEqual(ack, ['a', { b: 1 }]);
      await sleep(1000); // v3 clients ping the server (interval 300 ms): still connected
      assert.equal(s.connected, true);
      assert.equal(s.io.engine.transport.name, transport);
      const reason = onceEvent(s, 'disconnect');
      s.emit('kick');
      assert.equal(reasonOf(await reason), 'io server disconnect');
    });
  }

  test('a v3 client that stops pinging is closed after pingInterval + pingTimeout', async () => {
    const ws = rawWs(server, '/socket.io/?EIO=3&transport=websocket');
    await ws.next('0{');
    const t0 = Date.now();
    await ws.next('40'); // the implicit CONNECT to "/"
    const { at } = await ws.closed;
    assert.ok(at - t0 >= 1200 && at - t0 < 4000, `closed after ${at - t0} ms`);
  });

  test('v3 polling payloads are length-prefixed', async () => {
    const r = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling`);
    const text = await r.text();
    const m = /^(\d+):0(\{.*\})$/.exec(text);
    assert.ok(m, text);
    assert.equal(Number(m[1]), 1 + m[2].length);
    const { sid } = JSON.parse(m[2]);
    const p = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling&sid=${sid}`, { method: 'POST', body: '1:2' });
    assert.equal(p.status, 200);
    await p.text();
    const g = await fetch(`${server.url}/socket.io/?EIO=3&transport=polling&sid=${sid}`);
    const body = await g.text();
    assert.match(body, /^2:40/); // the implicit CONNECT, then the pong and "auth"
    assert.ok(body.includes('1:3'), body);
  });
});

describe('rooms and server-side disconnect', () => {
  test('a room broadcast reaches every member once, and only members', async () => {
    const room = 'r-' + crypto.randomBytes(4).toString('hex');
    const members = [client(server.url, { transports: ['websocket'] }), client(server.url, { transports: ['polling'] })];
    const outsider = client(server.url);
    await Promise.all([...members, outsider].map((s) => onceEvent(s, 'connect')));
    for (const m of members) await m.timeout(3000).emitWithAck('join', room);
    const got = members.map((m) => { const a = []; m.on('news', (d) => a.push(d)); return a; });
    let outsiderGot = 0;
    outsider.on('news', () => { outsiderGot++; });
    const [n] = [await outsider.timeout(3000).emitWithAck('broadcast', { room, event: 'news', arg: { v: 42 } })];
    assert.equal(n, 2);
    await waitFor(() => got.every((a) => a.length === 1), 3000, 'both members got the broadcast');
    assert.deepEqual(got, [[{ v: 42 }], [{ v: 42 }]]);
    await sleep(100);
    assert.equal(outsiderGot, 0);
    for (const s of [...members, outsider]) s.close();
  });

  test('a server disconnect is "io server disconnect" and the client does not retry', async () => {
    const s = client(server.url, { reconnection: true });
    await onceEvent(s, 'connect');
    const reason = onceEvent(s, 'disconnect');
    s.emit('kick');
    assert.equal(reasonOf(await reason), 'io server disconnect');
    await sleep(500);
    assert.equal(s.connected, false);
    s.close();
  });

  test('an unknown namespace gets CONNECT_ERROR', async () => {
    const s = client(server.url + '/nope');
    const err = await onceEvent(s, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    s.close();
    await assertServes();
  });
});

describe('heartbeats and timeouts', () => {
  test('a websocket client that never answers pings is closed after pingInterval + pingTimeout', async () => {
    const ws = rawWs(server);
    await ws.next('0{');
    const t0 = Date.now();
    ws.send('40');
    const { at } = await ws.closed;
    assert.ok(ws.messages.includes('2'), 'a ping was sent');
    const elapsed = at - t0;
    assert.ok(elapsed >= 1200 && elapsed < 4000, `closed after ${elapsed} ms`);
  });

  test('a polling client that stops polling loses its session', async () => {
    const sid = await pollingHandshake(server);
    const c = await fetch(pollUrl(server, sid), { method: 'POST', body: '40' }); // connected: no connect timeout
    assert.equal(await c.text(), 'ok');
    await sleep(1600); // > pingInterval + pingTimeout
    const r = await fetch(pollUrl(server, sid));
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: 1, message: 'Session ID unknown' });
  });

  test('a client answering pings stays connected', async () => {
    const s = client(server.url, { transports: ['websocket'] });
    await onceEvent(s, 'connect');
    await sleep(1200); // four ping intervals
    assert.equal(s.connected, true);
    s.close();
  });

  test('a session that never sends CONNECT is closed after connectTimeout', async () => {
    const ws = rawWs(server);
    await ws.next('0{');
    const t0 = Date.now();
    const answerPings = setInterval(() => { if (ws.messages.includes('2')) { ws.messages.length = 0; ws.send('3'); } }, 20);
    const { at } = await ws.closed;
    clearInterval(answerPings);
    const elapsed = at - t0;
    assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms`);
  });
});

describe('hostile input: the connection ends, the server keeps serving', () => {
  test('garbage bytes on the TCP port', async () => {
    const r = await tcpSend(server.port, crypto.randomBytes(4096));
    assert.equal(r.closed, true);
    await assertServes();
  });

  test('a 2 MB websocket frame (over maxPayload)', async () => {
    const ws = await rawSocketIo(server);
    ws.send('42["message","' + 'x'.repeat(2 * 1024 * 1024) + '"]');
    const { code } = await ws.closed;
    assert.equal(code, 1009);
    await assertServes();
  });

  test('a 2 MB polling POST (over maxPayload)', async () => {
    const sid = await pollingHandshake(server);
    const r = await fetch(pollUrl(server, sid), { method: 'POST', body: '4' + 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(r.status, 413);
    await r.text();
    const g = await fetch(pollUrl(server, sid));
    assert.equal(g.status, 400);
    await assertServes({ transports: ['polling'] });
  });

  for (const [name, packet] of [
    ['an invalid Engine.IO packet', 'abc'],
    ['an invalid Socket.IO packet type', '4abc'],
    ['an EVENT whose data is not an array', '42{}'],
    ['invalid JSON in an EVENT', '42["message",{]'],
    ['an invalid ack id', '42abc["message-with-ack",1]'],
    ['a binary attachment nobody announced', Buffer.from([1, 2, 3])],
  ]) {
    test(`${name} over websocket`, async () => {
      const ws = await rawSocketIo(server);
      ws.send(packet);
      await ws.closed;
      await assertServes({ transports: ['websocket'] });
    });
  }

  test('an invalid payload over polling gets 400 and ends the session', async () => {
    const sid = await pollingHandshake(server);
    const r = await fetch(pollUrl(server, sid), { method: 'POST', body: '40\x1e42["message",{]' });
    // The Engine.IO payload is valid; the Socket.IO packet is not: "ok", then the session ends.
    assert.equal(r.status, 200);
    await r.text();
    await waitFor(async () => (await fetch(pollUrl(server, sid))).status === 400, 3000, 'session closed');
    const r2 = await fetch(pollUrl(server, await pollingHandshake(server)), { method: 'POST', body: 'zzz' });
    assert.equal(r2.status, 400);
    assert.equal((await r2.json()).code, 3);
    await assertServes({ transports: ['polling'] });
  });

  test('bad handshakes get the standard 400 errors', async () => {
    for (const [q, code] of [['EIO=5&transport=polling', 5], ['EIO=abc&transport=polling', 5], ['EIO=4&transport=carrier-pigeon', 0], ['EIO=4', 0]]) {
      const r = await fetch(`${server.url}/socket.io/?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal((await r.json()).code, code, q);
    }
    const r = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`);
    assert.equal(r.status, 400);
    assert.deepEqual(await r.json(), { code: 1, message: 'Session ID unknown' });
    const p = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { method: 'POST', body: '4x' });
    assert.equal(p.status, 400);
    assert.equal((await p.json()).code, 2);
  });

  test('protocol errors are counted', async () => {
    const st = await stats();
    assert.ok(st.protocolErrors >= 8, `protocolErrors ${st.protocolErrors}`);
  });
});

describe('HTTP details', () => {
  test('CORS: the Origin is echoed with credentials, and preflight is answered', async () => {
    const r = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'http://dash.example:8001' } });
    await r.text();
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://dash.example:8001');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(r.headers.get('x-perfload-worker'), 'w7');
    const o = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, {
      method: 'OPTIONS', headers: { Origin: 'http://dash.example:8001', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(o.status, 204);
    assert.match(o.headers.get('access-control-allow-methods'), /POST/);
  });

  test('a second concurrent GET ends the session; the held one gets a close packet', async () => {
    const sid = await pollingHandshake(server);
    const first = fetch(pollUrl(server, sid));
    await sleep(100);
    const second = await fetch(pollUrl(server, sid));
    assert.equal(second.status, 400);
    const r = await first;
    assert.equal(await r.text(), '1');
  });
});

describe('slow readers', () => {
  test('a reader that never reads is dropped at the send-queue bound; others are unaffected', async () => {
    const before = await stats();
    const slow = await rawSocketIo(server);
    slow._socket.pause(); // stop reading: kernel buffers fill, then the engine's queue
    const watcher = client(server.url, { transports: ['websocket'] });
    await onceEvent(watcher, 'connect');
    // 40 x 500 kB requested; each burst fits the 1 MB bound, but not unread.
    for (let i = 0; i < 40 && slow.readyState === 1; i++) {
      slow.send('42["flood",{"count":50,"size":10000}]');
      await sleep(20);
    }
    await waitFor(async () => (await stats()).slowDropped > before.slowDropped, 10000, 'slow client dropped');
    const ack = await ackAll(watcher, 'message-with-ack', 'still here');
    assert.deepEqual(ack, ['still here']);
    slow._socket.resume();
    await slow.closed;
    watcher.close();
  });

  test('a polling client that never polls is dropped at the bound, its backlog freed', async () => {
    const before = await stats();
    const sid = await pollingHandshake(server);
    const post = async (body) => { const r = await fetch(pollUrl(server, sid), { method: 'POST', body }); await r.text(); return r.status; };
    assert.equal(await post('40'), 200);
    for (let i = 0; i < 3; i++) await post('42["flood",{"count":50,"size":10000}]'); // 1.5 MB queued > 1 MB
    await waitFor(async () => (await stats()).slowDropped > before.slowDropped, 5000, 'slow polling client dropped');
    const g = await fetch(pollUrl(server, sid));
    assert.equal(g.status, 400);
    await g.text();
  });

  test('a fast reader takes the same burst without being dropped', async () => {
    const s = client(server.url, { transports: ['websocket'] });
    await onceEvent(s, 'connect');
    let n = 0;
    s.on('flood', () => { n++; });
    s.emit('flood', { count: 50, size: 10000 });
    await waitFor(() => n === 50, 5000, '50 flood events');
    assert.equal(s.connected, true);
    s.close();
  });
});

describe('graceful shutdown', () => {
  test('the server used by every test above stops cleanly (no sanitizer report, no leak)', async () => {
    const { code, signal } = await stopProcess(server.proc, 5000);
    assert.equal(signal, null);
    assert.equal(code, 0, server.proc.output());
    assert.doesNotMatch(server.proc.output(), /Sanitizer|runtime error|LeakSanitizer/);
  });

  test('SIGTERM: every client is told "io server disconnect", the server exits 0', async () => {
    const own = await startConformance();
    const a = client(own.url, { transports: ['websocket'] });
    const b = client(own.url, { transports: ['polling'] });
    await Promise.all([onceEvent(a, 'connect'), onceEvent(b, 'connect')]);
    const reasons = Promise.all([onceEvent(a, 'disconnect'), onceEvent(b, 'disconnect')]);
    own.proc.kill('SIGTERM');
    assert.deepEqual((await reasons).map(reasonOf), ['io server disconnect', 'io server disconnect']);
    const { code } = await own.proc.exited;
    assert.equal(code, 0);
  });
});
