// Starts the test MongoDB (CongoDB, wire-compatible, in memory) on loopback.
//   node start.mjs --port P [--host 127.0.0.1]
// Prints "ready" on stdout once it accepts connections; stops on SIGTERM/SIGINT.
// Installed by scripts/install-mongo-test-server.sh. Tests only: data lives
// in memory and dies with the process, TTL indexes are never applied.
import { CongoServer } from '@push.rocks/smartmongo/dist_ts/congodb/index.js';

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const port = Number(arg('--port', '27017'));
const host = arg('--host', '127.0.0.1');
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`start.mjs: bad --port ${arg('--port')}`);
  process.exit(2);
}

const server = new CongoServer({ host, port });
try {
  await server.start();
} catch (e) {
  console.error(`start.mjs: cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
}
console.log('ready');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try { await server.stop(); } catch {}
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
