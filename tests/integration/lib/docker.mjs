// Helpers for tests/integration/docker.test.mjs: read docker/Dockerfile and
// docker/docker-compose.yml the way Docker does (enough of it to replay the
// build stage and compare lists), validate compose offline with Debian's
// docker-compose 1.29, and map shared libraries to Debian packages.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../harness.mjs';

export const DOCKER_DIR = path.join(ROOT, 'docker');
export const COMPOSE_FILE = path.join(DOCKER_DIR, 'docker-compose.yml');
export const DOCKERFILE = path.join(DOCKER_DIR, 'Dockerfile');
export const ENV_EXAMPLE = path.join(DOCKER_DIR, '.env.example');

/** Runs a command to completion; { code, stdout, stderr }. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Like run() but asynchronous, so a long step does not block the test runner's timers. */
export function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// ---- .env ------------------------------------------------------------------

/** .env.example with both keys filled with fresh random hex (as `openssl rand -hex 32` would). */
export function filledEnvText(overrides = {}) {
  const keys = {
    PERFLOAD_AGENT_KEY: crypto.randomBytes(32).toString('hex'),
    PERFLOAD_UI_KEY: crypto.randomBytes(32).toString('hex'),
    ...overrides,
  };
  let text = fs.readFileSync(ENV_EXAMPLE, 'utf8');
  for (const [k, v] of Object.entries(keys)) {
    const re = new RegExp(`^${k}=.*$`, 'm');
    if (!re.test(text)) throw new Error(`.env.example has no ${k}= line`);
    text = text.replace(re, `${k}=${v}`);
  }
  return text;
}

// ---- compose -----------------------------------------------------------------

/**
 * `docker-compose -f FILE --env-file ENV config [-q]` with the project
 * directory pinned to docker/, so a copy of the file placed elsewhere resolves
 * `build.context: ..` exactly as the original does.
 */
export function composeConfig(file, envFile, { quiet = true } = {}) {
  const args = ['-f', file, '--project-directory', DOCKER_DIR, '--env-file', envFile, 'config'];
  if (quiet) args.push('-q');
  return run('docker-compose', args, { cwd: DOCKER_DIR });
}

/** YAML text → JS value, with the PyYAML that Debian's docker-compose itself depends on. */
export function yamlToJson(text) {
  const r = run('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: text });
  if (r.code !== 0) throw new Error('yaml parse failed: ' + r.stderr);
  return JSON.parse(r.stdout);
}

/** JS value → YAML text (for writing deliberately broken copies). */
export function jsonToYaml(value) {
  const r = run('python3', ['-c', 'import sys, json, yaml; yaml.safe_dump(json.load(sys.stdin), sys.stdout, sort_keys=False)'],
    { input: JSON.stringify(value) });
  if (r.code !== 0) throw new Error('yaml dump failed: ' + r.stderr);
  return r.stdout;
}

/** The compose model after interpolation, as docker-compose renders it. */
export function composeModel(envFile) {
  const r = composeConfig(COMPOSE_FILE, envFile, { quiet: false });
  if (r.code !== 0) throw new Error('docker-compose config failed: ' + r.stderr);
  return yamlToJson(r.stdout);
}

/** "8000:8000", "127.0.0.1:8000:8000/tcp" or { target, published } → container port number. */
export function containerPort(spec) {
  if (typeof spec === 'object') return Number(spec.target);
  return Number(String(spec).split('/')[0].split(':').pop());
}

// ---- Dockerfile ------------------------------------------------------------

/**
 * Parses a Dockerfile into stages: [{ from, name, instructions: [{ cmd, args, line }] }].
 * Handles line continuations and comment lines inside them, as Docker does.
 */
export function parseDockerfile(text) {
  const stages = [];
  let cur = null, buf = '', startLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (/^\s*#/.test(raw) || (!buf && !raw.trim())) continue;
    if (!buf) startLine = i + 1;
    if (/\\\s*$/.test(raw)) { buf += raw.replace(/\\\s*$/, '') + ' '; continue; }
    buf += raw;
    const m = /^\s*(\S+)\s*(.*)$/s.exec(buf);
    buf = '';
    const cmd = m[1].toUpperCase(), args = m[2].trim();
    if (cmd === 'FROM') {
      const w = args.split(/\s+/);
      cur = { from: w[0], name: /^as$/i.test(w[1] || '') ? w[2] : null, instructions: [], line: startLine };
      stages.push(cur);
    } else if (cur) {
      cur.instructions.push({ cmd, args, line: startLine });
    }
  }
  return stages;
}

export function stageByName(stages, name) {
  const s = stages.find((st) => st.name === name);
  if (!s) throw new Error(`Dockerfile has no stage named ${name}`);
  return s;
}

/** The stages a stage builds on (FROM <earlier stage>), nearest first, itself included. */
export function stageChain(stages, name) {
  const chain = [];
  for (let s = stageByName(stages, name); s; s = stages.find((st) => st.name === s.from)) chain.push(s);
  return chain;
}

/** ENV instructions of a stage → object ("K=V K2=V2" and legacy "K V" forms). */
export function stageEnv(stage) {
  const env = {};
  for (const ins of stage.instructions.filter((x) => x.cmd === 'ENV')) {
    if (!ins.args.includes('=')) {
      const [k, ...v] = ins.args.split(/\s+/);
      env[k] = v.join(' ');
      continue;
    }
    for (const m of ins.args.matchAll(/(\w+)=("([^"]*)"|(\S*))/g)) env[m[1]] = m[3] ?? m[4];
  }
  return env;
}

/** Packages named by `apt-get install` in a stage's RUN lines. */
export function aptInstallList(stage) {
  const pkgs = [];
  for (const ins of stage.instructions.filter((x) => x.cmd === 'RUN')) {
    for (const part of ins.args.split(/&&|;|\|\|/)) {
      const w = part.trim().split(/\s+/);
      const i = w.indexOf('apt-get');
      if (i < 0 || !w.slice(i + 1).includes('install')) continue;
      const after = w.slice(w.indexOf('install', i) + 1);
      pkgs.push(...after.filter((t) => t && !t.startsWith('-')));
    }
  }
  return pkgs;
}

/** COPY --from=<stage> sources of a stage: [{ src, dest }]. */
export function copiesFrom(stage, from) {
  return stage.instructions
    .filter((x) => x.cmd === 'COPY' && x.args.includes(`--from=${from}`))
    .map((x) => {
      const w = x.args.split(/\s+/).filter((t) => !t.startsWith('--'));
      return { src: w[0], dest: w[w.length - 1] };
    });
}

// ---- shared libraries → Debian packages ---------------------------------------

/** DT_NEEDED sonames of an ELF file (what it links directly). */
export function neededLibs(file) {
  const r = run('readelf', ['-d', file]);
  if (r.code !== 0) throw new Error(`readelf ${file}: ${r.stderr}`);
  return [...r.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/** ldd of a file: soname → resolved path, for every library loaded (direct and transitive). */
export function lddLibs(file) {
  const r = run('ldd', [file]);
  if (r.code !== 0) throw new Error(`ldd ${file}: ${r.stderr}`);
  const libs = new Map();
  for (const m of r.stdout.matchAll(/^\s*(\S+) => (\/\S+)/gm)) libs.set(m[1], m[2]);
  for (const m of r.stdout.matchAll(/^\s*(\/\S+) \(/gm)) libs.set(path.basename(m[1]), m[1]);
  return libs;
}

const pkgCache = new Map();
/** The installed Debian package owning a file (usrmerge-aware), or null. */
export function packageOf(file) {
  if (pkgCache.has(file)) return pkgCache.get(file);
  const real = fs.realpathSync(file);
  const candidates = new Set([file, real]);
  for (const f of [file, real]) {
    if (f.startsWith('/usr/lib/')) candidates.add(f.slice(4));
    else if (f.startsWith('/lib')) candidates.add('/usr' + f);
  }
  let pkg = null;
  for (const c of candidates) {
    const r = run('dpkg', ['-S', c]);
    if (r.code === 0) { pkg = r.stdout.split('\n')[0].split(':')[0].split(',')[0].trim(); break; }
  }
  pkgCache.set(file, pkg);
  return pkg;
}

/** Every package apt would install for `pkgs` (their Depends/Pre-Depends closure, pkgs included). */
export function aptClosure(pkgs) {
  const r = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts',
    '--no-breaks', '--no-replaces', '--no-enhances', ...pkgs]);
  if (r.code !== 0) throw new Error('apt-cache depends failed: ' + r.stderr);
  const out = new Set(pkgs);
  for (const m of r.stdout.matchAll(/^(\S+)$/gm)) out.add(m[1].replace(/:.*$/, ''));
  for (const m of r.stdout.matchAll(/^\s+(?:Pre)?Depends: (\S+)$/gm)) out.add(m[1].replace(/:.*$/, ''));
  return out;
}

// ---- Node.js on a fresh debian:bookworm ------------------------------------------

/**
 * The Node.js version scripts/install-deps.sh gives a fresh debian:bookworm
 * (the Dockerfile's build stage, CI's fresh machine): NodeSource's latest of
 * the major it configures, if it configures one, else Debian's own package.
 * Returns { version: 'x.y.z', from }.
 */
export function freshBookwormNode(installScript) {
  const ns = /nodesource[\s\S]*?(?:node_|setup_|NODE_MAJOR=)(\d+)/i.exec(installScript);
  if (ns) return { version: `${ns[1]}.999.0`, from: `NodeSource ${ns[1]}.x (configured by install-deps.sh)` };
  const r = run('apt-cache', ['madison', 'nodejs']);
  const debian = r.stdout.split('\n').filter((l) => /deb\.debian\.org/.test(l))
    .map((l) => l.split('|')[1].trim());
  if (!debian.length) throw new Error('apt-cache madison nodejs lists no Debian version: ' + r.stdout + r.stderr);
  const v = /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debian[0])[1];
  return { version: v, from: `Debian nodejs ${debian[0]}` };
}

const ver = (s) => s.replace(/^[=v\s]+/, '').split('.').map((x) => (/^\d+$/.test(x) ? Number(x) : 0));
function cmp(a, b) {
  for (let i = 0; i < 3; i++) if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) - (b[i] || 0);
  return 0;
}
/** npm-style engines range check: `||` of space-separated `^ ~ >= > <= < =` comparators. */
export function satisfies(version, range) {
  const v = ver(version);
  return range.split('||').some((alt) => alt.trim().split(/\s+/).filter(Boolean).every((c) => {
    const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(c);
    const op = m[1] || '=', parts = m[2].split('.').filter((x) => /^\d+$/.test(x)), b = ver(m[2]);
    if (!parts.length) return true; // *, x
    if (op === '>=') return cmp(v, b) >= 0;
    if (op === '>') return cmp(v, b) > 0;
    if (op === '<=') return cmp(v, b) <= 0;
    if (op === '<') return cmp(v, b) < 0;
    if (op === '^') {
      const i = b[0] !== 0 || parts.length === 1 ? 0 : b[1] !== 0 || parts.length === 2 ? 1 : 2;
      const upper = b.slice(0, i + 1).map((x, j) => (j === i ? x + 1 : x));
      return cmp(v, b) >= 0 && cmp(v, upper) < 0;
    }
    if (op === '~') return cmp(v, b) >= 0 && v[0] === b[0] && (parts.length < 2 || v[1] === b[1]);
    return parts.every((p, i) => v[i] === Number(p)); // =, plain, 1.x
  }));
}

// ---- .dockerignore ---------------------------------------------------------

/** .dockerignore patterns (comments and blanks dropped, leading '/' and trailing '/' trimmed). */
export function readDockerignore(file) {
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/^\/+|\/+$/g, ''));
}

function globRegex(pattern) {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') { re += '.*'; i++; if (pattern[i + 1] === '/') { re = re.slice(0, -2) + '(?:.*/)?'; i++; } }
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether Docker leaves relPath out of the build context: a path is excluded
 * when it or one of its parent directories matches a pattern (Docker's Go
 * filepath.Match plus `**`; `!` exceptions are not used in this repo).
 */
export function dockerIgnored(relPath, patterns) {
  const parts = relPath.replace(/\/+$/, '').split('/');
  const res = patterns.map(globRegex);
  for (let n = 1; n <= parts.length; n++) {
    const prefix = parts.slice(0, n).join('/');
    if (res.some((r) => r.test(prefix))) return true;
  }
  return false;
}

/**
 * Performs a build-context `COPY <src>... <dest>` the way Docker does, into a
 * local directory standing for the image's root: a directory source copies
 * its contents, a file goes into `dest/` (trailing slash) or becomes `dest`,
 * and .dockerignore'd paths never leave the context. `rootDir` is where the
 * image path `/` lives locally; `workdir` the image's current WORKDIR.
 */
export function applyCopy(args, contextDir, rootDir, workdir, patterns) {
  const words = args.split(/\s+/).filter((w) => w && !w.startsWith('--'));
  const dest = words.pop();
  if (words.some((w) => /[*?[]/.test(w))) throw new Error(`COPY ${args}: wildcards are not emulated`);
  const destImage = dest.startsWith('/') ? dest : path.posix.join(workdir, dest);
  const destLocal = path.join(rootDir, destImage);
  const intoDir = dest.endsWith('/') || words.length > 1 || dest === '.';
  const filter = (p) => {
    const rel = path.relative(contextDir, p);
    return rel === '' || !dockerIgnored(rel.split(path.sep).join('/'), patterns);
  };
  for (const src of words) {
    const from = path.join(contextDir, src);
    if (!fs.existsSync(from)) throw new Error(`COPY ${args}: ${src} is not in the build context`);
    if (!filter(from)) throw new Error(`COPY ${args}: ${src} is excluded by .dockerignore`);
    if (fs.statSync(from).isDirectory()) {
      fs.mkdirSync(destLocal, { recursive: true });
      fs.cpSync(from, destLocal, { recursive: true, filter });
    } else {
      const to = intoDir ? path.join(destLocal, path.basename(src)) : destLocal;
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.cpSync(from, to);
    }
  }
}
