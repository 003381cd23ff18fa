// A private MongoDB for one test file: the CongoDB test server installed by
// scripts/install-mongo-test-server.sh, on a free loopback port. Set
// PERFLOAD_TEST_MONGOD=/path/to/mongod to run the same tests against a real
// mongod instead (its data dir is a fresh tmpdir, kept across restart()).
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ROOT, freePort, startProcess, stopProcess, tmpdir, waitFor } from '../harness.mjs';

const SERVER_DIR = path.join(ROOT, 'tests/mongo-server');

function spawnServer(port, dbpath) {
  if (process.env.PERFLOAD_TEST_MONGOD) {
    return startProcess(process.env.PERFLOAD_TEST_MONGOD,
      ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dbpath, '--quiet']);
  }
  if (!fs.existsSync(path.join(SERVER_DIR, 'node_modules/@push.rocks/smartmongo'))) {
    throw new Error('test MongoDB not installed: run scripts/install-mongo-test-server.sh');
  }
  return startProcess(process.execPath, ['start.mjs', '--port', String(port)], { cwd: SERVER_DIR });
}

async function pingable(url) {
  const c = new MongoClient(url, { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 });
  try { await c.db('admin').command({ ping: 1 }); return true; } catch { return false; } finally { await c.close().catch(() => {}); }
}

/**
 * Starts a MongoDB on a free port. Returns
 * { url, port, db(name), stop(), kill(), restart(), close() } where db() is a
 * `mongodb` driver Db (one shared client, reconnects by itself after restart).
 */
export async function startMongo() {
  const port = await freePort();
  const dbpath = tmpdir('perfload-mongo-');
  const m = { port, url: `mongodb://127.0.0.1:${port}` };
  let client = null;
  m.start = async () => {
    m.proc = spawnServer(port, dbpath);
    await waitFor(async () => {
      if (m.proc.exitCode !== null) throw new Error('mongo exited: ' + m.proc.output());
      return pingable(m.url);
    }, 15000, `mongo on ${port}`, 100);
  };
  m.stop = () => stopProcess(m.proc);
  m.kill = async () => { m.proc.kill('SIGKILL'); await m.proc.exited; };
  m.restart = () => m.start();
  m.db = (name = 'perfload') => {
    if (!client) client = new MongoClient(m.url, { serverSelectionTimeoutMS: 2000 });
    return client.db(name);
  };
  m.close = async () => { if (client) await client.close().catch(() => {}); client = null; await m.stop(); };
  await m.start();
  return m;
}
