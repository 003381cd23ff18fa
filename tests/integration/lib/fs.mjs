// Helpers for perfload-fs tests: mount for real, read through child
// processes (a hung FUSE call must never block node's own thread pool), and
// write Redis keys by hand in the appliance's format (docs/architecture.md).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { bin, startProcess, stopProcess, tmpdir, waitFor } from '../harness.mjs';

const mounts = new Set();

/** Runs a command; resolves { code, stdout, stderr, ms } (never rejects). */
export function run(cmd, args, timeoutMs = 10000) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, killed: !!(err && err.killed),
        stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** `cat path` in a child process: { code, stdout, stderr, ms }. */
export const cat = (path, timeoutMs = 10000) => run('cat', [path], timeoutMs);

/** redis-cli against a harness redis; args are passed verbatim (binary-safe except NUL). */
export async function redisCli(redis, ...args) {
  const r = await run('redis-cli', ['-p', String(redis.port), ...args]);
  if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Writes one machine exactly as the appliance does: SADD + HSET (sample, lastSeen, firstSeen, active). */
export async function putMachine(redis, mac, fields, prefix = 'perfload:') {
  await redisCli(redis, 'SADD', `${prefix}machines`, mac);
  const kv = Object.entries(fields).flatMap(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  await redisCli(redis, 'HSET', `${prefix}machine:${mac}`, ...kv);
}

export function isMounted(dir) {
  const real = fs.realpathSync(dir);
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .some((l) => l.split(' ')[4] === real);
}

/**
 * Mounts perfload-fs (foreground, so the harness owns the process) on a fresh
 * temp dir. Returns { dir, proc, unmount() }; fsCleanup() unmounts the rest.
 */
export async function mountFs(redisUrl, args = []) {
  const dir = tmpdir('perfload-fs-mnt-');
  const proc = startProcess(bin('perfload-fs'), ['--redis', redisUrl, '-f', ...args, dir]);
  const m = { dir, proc };
  m.unmount = async () => {
    mounts.delete(m);
    const r = await stopProcess(proc, 3000);
    if (isMounted(dir)) await run('fusermount3', ['-u', '-z', dir]);
    return r;
  };
  mounts.add(m);
  await waitFor(() => {
    if (proc.exitCode !== null) throw new Error('perfload-fs exited: ' + proc.output());
    return isMounted(dir);
  }, 5000, `perfload-fs mounted on ${dir}`);
  return m;
}

/** Unmounts everything still mounted; call before harness cleanup(). */
export async function fsCleanup() {
  for (const m of [...mounts]) {
    try { await m.unmount(); } catch {}
  }
}
