// Docker packaging: the compose file validates offline and refuses empty keys,
// the Dockerfile lints, compose agrees with docs/configuration.md, the
// container helper scripts behave, and the Dockerfile's build stage -- replayed
// from its own RUN lines in a clean clone -- builds every file the runtime
// stages copy, linked only against libraries those stages install.
// No Docker engine runs here, so this is as close to `docker build` as we get.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import os from 'node:os';
import {
  ROOT, tmpdir, freePort, cleanup, startProcess, stopProcess, startRedis, startAppliance, bin, waitFor,
} from './harness.mjs';
import {
  DOCKER_DIR, COMPOSE_FILE, DOCKERFILE, ENV_EXAMPLE, run, runAsync, filledEnvText, composeConfig,
  yamlToJson, jsonToYaml, composeModel, containerPort, parseDockerfile, stageByName, stageChain,
  stageEnv, aptInstallList, copiesFrom, neededLibs, lddLibs, packageOf, aptClosure, freshBookwormNode, satisfies,
  readDockerignore, dockerIgnored, applyCopy,
} from './lib/docker.mjs';

after(cleanup);

const TARGETS = ['appliance', 'agent', 'fs'];
// The binary each compose service runs, by Dockerfile target.
const SERVICE_TARGET = { appliance: 'appliance', agent: 'agent', 'agent-host': 'agent', fs: 'fs' };
const TARGET_BINARY = { appliance: 'perfload-appliance', agent: 'perfload-agent', fs: 'perfload-fs' };
// Installed in a runtime stage without any binary linking them: CA roots for
// TLS (agent to https://, appliance to mongodb+srv://) and fusermount3
// (auto_unmount) for the fs image; libwebsockets' libev event-loop plugin,
// which libwebsockets dlopen()s at context creation (the appliance's workers
// run lws on libev), so no DT_NEEDED names it.
const NON_LIBRARY_PACKAGES = new Set(['ca-certificates', 'fuse3', 'libwebsockets-evlib-ev']);
// Present in every debian:bookworm-slim image (Essential / its own deps).
const BASE_PACKAGES = new Set(['libc6', 'libgcc-s1']);

const dockerfile = parseDockerfile(fs.readFileSync(DOCKERFILE, 'utf8'));

function writeEnv(dir, overrides) {
  const f = path.join(dir, '.env');
  fs.writeFileSync(f, filledEnvText(overrides));
  return f;
}

describe('docker-compose.yml validates offline (Debian docker-compose 1.29, no engine)', () => {
  test('valid with a filled .env.example', () => {
    const env = writeEnv(tmpdir());
    const r = composeConfig(COMPOSE_FILE, env);
    assert.equal(r.code, 0, r.stderr);
  });

  test('refuses to render with an empty or missing key, naming the key and docker/.env', () => {
    // .env.example as committed has empty keys: using it unfilled must fail.
    const asIs = composeConfig(COMPOSE_FILE, ENV_EXAMPLE);
    assert.equal(asIs.code, 1, 'the unfilled .env.example must be refused');
    for (const key of ['PERFLOAD_AGENT_KEY', 'PERFLOAD_UI_KEY']) {
      const env = writeEnv(tmpdir(), { [key]: '' });
      const r = composeConfig(COMPOSE_FILE, env);
      assert.equal(r.code, 1, `empty ${key} must be refused`);
      assert.match(r.stderr, new RegExp(`set ${key} in docker/\\.env`));
    }
  });

  test('the validator rejects deliberately broken copies (so rc 0 above means something)', () => {
    const dir = tmpdir();
    const env = writeEnv(dir);
    const model = yamlToJson(fs.readFileSync(COMPOSE_FILE, 'utf8'));
    const check = (name, mutate) => {
      const copy = structuredClone(model);
      mutate(copy);
      const f = path.join(dir, `${name}.yml`);
      fs.writeFileSync(f, jsonToYaml(copy));
      return composeConfig(f, env);
    };
    // Control: an unmodified copy in the same place is valid.
    assert.equal(check('control', () => {}).code, 0);
    const broken = {
      'unknown-key': (m) => { m.services.appliance.restart_policy = 'always'; },
      'bad-port': (m) => { m.services.appliance.ports = ['eight-thousand:8000']; },
      'undefined-dependency': (m) => { m.services.agent.depends_on = { applianse: { condition: 'service_healthy' } }; },
      'bad-condition': (m) => { m.services.appliance.depends_on.redis.condition = 'service_healty'; },
      'cap-add-not-a-list': (m) => { m.services.fs.cap_add = 'SYS_ADMIN'; },
    };
    for (const [name, mutate] of Object.entries(broken)) {
      const r = check(name, mutate);
      assert.equal(r.code, 1, `${name}: expected rc 1, got ${r.code}\n${r.stdout}${r.stderr}`);
    }
  });

  test('services: persistence, health-gated start, restart policy, scaling, host agent, fs', () => {
    const m = composeModel(writeEnv(tmpdir()));
    const s = m.services;
    assert.deepEqual(Object.keys(s).sort(), ['agent', 'agent-host', 'appliance', 'fs', 'mongo', 'redis']);

    assert.match(s.redis.image, /^redis:7/);
    assert.ok(s.redis.command.join(' ').includes('--appendonly yes'), 'redis keeps an AOF');
    assert.ok(s.redis.volumes.some((v) => String(v.target ?? v).includes('/data')), 'redis data on a volume');
    assert.match(s.mongo.image, /^mongo:7/);
    assert.ok(s.mongo.volumes.some((v) => String(v.target ?? v).includes('/data/db')), 'mongo data on a volume');
    for (const name of ['redis', 'mongo', 'appliance']) assert.ok(s[name].healthcheck?.test, `${name} has a healthcheck`);
    for (const name of Object.keys(s)) assert.equal(s[name].restart, 'unless-stopped', `${name} restarts`);
    for (const name of Object.keys(SERVICE_TARGET)) assert.equal(s[name].init, true, `${name} runs under an init`);

    const a = s.appliance;
    assert.equal(a.build.target, 'appliance');
    assert.equal(a.restart, 'unless-stopped');
    assert.deepEqual(a.depends_on, { redis: { condition: 'service_healthy' }, mongo: { condition: 'service_healthy' } });
    assert.deepEqual(a.ports.map(containerPort).sort(), [8000, 8001]);
    assert.equal(a.environment.PERFLOAD_REDIS_URL, 'redis://redis:6379');
    assert.equal(a.environment.PERFLOAD_MONGO_URL, 'mongodb://mongo:27017');
    assert.match(a.environment.PERFLOAD_AGENT_KEY, /^[0-9a-f]{64}$/);
    assert.match(a.environment.PERFLOAD_UI_KEY, /^[0-9a-f]{64}$/);
    assert.notEqual(a.environment.PERFLOAD_AGENT_KEY, a.environment.PERFLOAD_UI_KEY);
    assert.ok(a.healthcheck.test.join(' ').includes('perfload-healthcheck'));

    // agent: scalable (no fixed name, no published port), ids from a shared slot volume.
    const ag = s.agent;
    assert.equal(ag.container_name, undefined, '--scale needs no container_name');
    assert.equal(ag.ports, undefined);
    assert.deepEqual(ag.depends_on, { appliance: { condition: 'service_healthy' } });
    assert.equal(ag.environment.PERFLOAD_AGENT_KEY, a.environment.PERFLOAD_AGENT_KEY);
    assert.ok(ag.volumes.some((v) => String(v.target ?? v).includes(ag.environment.AGENT_ID_DIR)),
      'AGENT_ID_DIR is a volume shared by the replicas');

    const h = s['agent-host'];
    assert.deepEqual(h.profiles, ['host']);
    assert.equal(h.environment.PERFLOAD_AGENT_KEY, a.environment.PERFLOAD_AGENT_KEY);
    const mounts = Object.fromEntries(h.volumes.map((v) => [v.target, v]));
    assert.equal(mounts['/host/proc'].source, '/proc');
    assert.equal(mounts['/host/proc'].read_only, true);
    assert.equal(mounts['/host/sys'].source, '/sys');
    assert.equal(mounts['/host/sys'].read_only, true);
    assert.deepEqual(h.command, ['--proc-root', '/host']);

    const f = s.fs;
    assert.deepEqual(f.profiles, ['fs']);
    assert.ok(f.devices.some((d) => d.startsWith('/dev/fuse')));
    assert.deepEqual(f.cap_add, ['SYS_ADMIN']);
    assert.ok(f.security_opt.includes('apparmor:unconfined'));
    const perf = f.volumes.find((v) => v.target === '/perf');
    assert.equal(perf.type, 'bind');
    assert.equal(perf.bind.propagation, 'rshared');
  });
});

describe('Dockerfile', () => {
  test('lints clean with dockerfilelint', () => {
    const r = run(path.join(ROOT, 'node_modules/.bin/dockerfilelint'), ['-j', DOCKERFILE], { cwd: ROOT });
    const report = JSON.parse(r.stdout);
    const stageNames = new Set(dockerfile.map((s) => s.name).filter(Boolean));
    // dockerfilelint 1.8 predates multi-stage builds: it asks for a tag on
    // `FROM <earlier stage>`. Only that exact false positive is ignored.
    const issues = report.files[0].issues.filter((i) => !(i.title === 'Base Image Missing Tag'
      && stageNames.has(i.content.split(/\s+/)[1])));
    assert.deepEqual(issues, []);
  });

  test('dockerfilelint does catch real mistakes', () => {
    const bad = path.join(tmpdir(), 'Dockerfile');
    fs.writeFileSync(bad, 'FROM debian\nRUN sudo true\nRUN apt-get install curl\n');
    const r = run(path.join(ROOT, 'node_modules/.bin/dockerfilelint'), ['-j', bad], { cwd: ROOT });
    const titles = JSON.parse(r.stdout).files[0].issues.map((i) => i.title);
    assert.ok(titles.includes('Base Image Missing Tag'), titles.join(', '));
    assert.ok(titles.some((t) => /sudo/i.test(t)), titles.join(', '));
    assert.ok(titles.some((t) => /apt-get/.test(t)), titles.join(', '));
    assert.ok(titles.some((t) => /no-install-recommends/.test(t)), titles.join(', '));
  });

  test('build on debian:bookworm with the CI commands; slim, non-root runtime targets', () => {
    const build = stageByName(dockerfile, 'build');
    assert.equal(build.from, 'debian:bookworm');
    const runs = build.instructions.filter((x) => x.cmd === 'RUN').map((x) => x.args);
    assert.ok(runs.some((r) => /(^|\s)scripts\/install-deps\.sh(\s|$)/.test(r)), 'runs the shared install script');
    assert.ok(runs.some((r) => /(^|\s)make(\s|$)/.test(r)), 'runs make');
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    assert.match(ci, /scripts\/install-deps\.sh/, 'CI runs the same install script');

    for (const t of TARGETS) {
      const chain = stageChain(dockerfile, t);
      assert.equal(chain[chain.length - 1].from, 'debian:bookworm-slim', `${t} runs on bookworm-slim`);
      const ins = chain.flatMap((s) => s.instructions);
      const entry = stageByName(dockerfile, t).instructions.find((x) => x.cmd === 'ENTRYPOINT');
      assert.ok(entry, `${t} has an ENTRYPOINT`);
      assert.ok(copiesFrom(stageByName(dockerfile, t), 'build').some((c) => c.src.endsWith('/' + TARGET_BINARY[t])),
        `${t} copies ${TARGET_BINARY[t]} from the build stage`);
      const users = ins.filter((x) => x.cmd === 'USER').map((x) => x.args);
      const user = stageByName(dockerfile, t).instructions.filter((x) => x.cmd === 'USER').pop()?.args;
      if (t === 'fs') assert.equal(user, 'root', 'fs documents that FUSE mount needs root');
      else assert.equal(user, 'perfload', `${t} runs as the non-root user`);
      assert.ok(users.length > 0);
    }
    const app = stageByName(dockerfile, 'appliance');
    const www = copiesFrom(app, 'build').find((c) => c.src.endsWith('www/dist'));
    assert.ok(www, 'the appliance image carries the built dashboard');
    assert.equal(stageEnv(app).PERFLOAD_WWW_DIR, www.dest);
  });

  test('.dockerignore: the build context is the committed tree (no local outputs, deps or secrets)', () => {
    const patterns = readDockerignore(path.join(ROOT, '.dockerignore'));
    // Whatever git ignores that exists here now (build outputs, node_modules, ...)
    // stays out of the context, so `COPY . .` sees what a clean clone sees.
    const ignored = run('git', ['ls-files', '--others', '--ignored', '--exclude-standard', '--directory'], { cwd: ROOT })
      .stdout.split('\n').filter(Boolean);
    for (const p of ignored) assert.ok(dockerIgnored(p, patterns), `git ignores ${p}; the build context must too`);
    for (const p of ['docker/.env', '.git/config', 'www/node_modules/vite/package.json', 'build/perfload-agent',
      'tests/mongo-server/node_modules/x', 'lib/foo.o']) {
      assert.ok(dockerIgnored(p, patterns), `${p} is left out of the build context`);
    }
    // ...while every committed file stays in.
    const tracked = run('git', ['ls-files'], { cwd: ROOT }).stdout.split('\n').filter(Boolean);
    assert.deepEqual(tracked.filter((p) => dockerIgnored(p, patterns)), []);
  });

  // The clean-clone replay below runs on this machine's Node.js, which may be
  // newer than what a fresh debian:bookworm gets; this closes that gap.
  test('the Node.js install-deps.sh gives a fresh debian:bookworm can build the dashboard', () => {
    const node = freshBookwormNode(fs.readFileSync(path.join(ROOT, 'scripts/install-deps.sh'), 'utf8'));
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'www/package-lock.json'), 'utf8'));
    const unmet = Object.entries(lock.packages)
      .filter(([name, p]) => name && !p.optional && p.engines?.node && !satisfies(node.version, p.engines.node))
      .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')} needs node ${p.engines.node}`);
    assert.deepEqual(unmet, [], `the image build (and CI on a fresh Debian) gets ${node.from}`);
  });
});

// ---- compose ↔ docs/configuration.md ----------------------------------------

/** docs/configuration.md → { 'perfload-appliance': [{ flag, env, default }], ... } from its tables. */
function configTables(md) {
  const sections = {};
  let cur = null;
  for (const line of md.split('\n')) {
    const h = /^##\s+(perfload-[\w-]+)/.exec(line);
    if (h) { cur = sections[h[1]] = []; continue; }
    if (/^##\s/.test(line)) { cur = null; continue; }
    if (!cur || !line.startsWith('|') || /^\|\s*(-|flag\b)/.test(line)) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    cur.push({ flag: cells[0], env: cells[1].replace(/`/g, ''), default: cells[2] });
  }
  return sections;
}

describe('compose agrees with docs/configuration.md', () => {
  const mdPath = path.join(ROOT, 'docs/configuration.md');

  test('every PERFLOAD_* variable a service sets is documented for the binary it runs; ports are the defaults', () => {
    const tables = configTables(fs.readFileSync(mdPath, 'utf8'));
    for (const b of Object.values(TARGET_BINARY)) assert.ok(tables[b]?.length, `configuration.md documents ${b}`);
    const m = composeModel(writeEnv(tmpdir()));
    for (const [svc, target] of Object.entries(SERVICE_TARGET)) {
      const binary = TARGET_BINARY[target];
      const documented = new Set(tables[binary].flatMap((r) => r.env.split(/[\s,]+/)));
      for (const v of Object.keys(m.services[svc].environment || {}).filter((k) => k.startsWith('PERFLOAD_'))) {
        assert.ok(documented.has(v), `${svc} sets ${v}, which configuration.md does not list for ${binary}`);
      }
      // Flags the service passes on its command line are documented too.
      for (const flag of (m.services[svc].command || []).filter((w) => w.startsWith('-'))) {
        assert.ok(tables[binary].some((r) => r.flag.includes('`' + flag)),
          `${svc} passes ${flag}, which configuration.md does not list for ${binary}`);
      }
    }
    // The images' own ENV and ENTRYPOINT/CMD flags are documented for their binary too.
    for (const [target, binary] of Object.entries(TARGET_BINARY)) {
      const stage = stageByName(dockerfile, target);
      const documented = new Set(tables[binary].flatMap((r) => r.env.split(/[\s,]+/)));
      for (const v of Object.keys(stageEnv(stage)).filter((k) => k.startsWith('PERFLOAD_'))) {
        assert.ok(documented.has(v), `image ${target} sets ${v}, which configuration.md does not list for ${binary}`);
      }
      const argv = stage.instructions.filter((x) => x.cmd === 'ENTRYPOINT' || x.cmd === 'CMD')
        .flatMap((x) => JSON.parse(x.args));
      for (const flag of argv.filter((w) => w.startsWith('-'))) {
        assert.ok(tables[binary].some((r) => r.flag.includes('`' + flag)),
          `image ${target} runs ${binary} with ${flag}, which configuration.md does not list`);
      }
    }
    const def = (binary, env) => tables[binary].find((r) => r.env === env)?.default;
    const port = Number(def('perfload-appliance', 'PERFLOAD_PORT'));
    const httpPort = Number(def('perfload-appliance', 'PERFLOAD_HTTP_PORT'));
    assert.equal(port, 8000);
    assert.equal(httpPort, 8001);
    const a = m.services.appliance;
    assert.deepEqual(a.ports.map(containerPort).sort(), [port, httpPort].sort());
    assert.ok(a.healthcheck.test.includes(String(httpPort)), 'healthcheck probes the HTTP port');
    // Agents reach the Socket.IO port; the agent's documented default uses it too.
    assert.equal(new URL(def('perfload-agent', 'PERFLOAD_SERVER')).port, String(port));
    for (const svc of ['agent', 'agent-host']) {
      assert.equal(new URL(m.services[svc].environment.PERFLOAD_SERVER).port, String(port), svc);
    }
  });

  test('URLs name compose services on their images\' standard ports', () => {
    const m = composeModel(writeEnv(tmpdir()));
    const urls = [m.services.appliance.environment.PERFLOAD_REDIS_URL, m.services.appliance.environment.PERFLOAD_MONGO_URL,
      m.services.fs.environment.PERFLOAD_REDIS_URL, m.services.agent.environment.PERFLOAD_SERVER,
      m.services['agent-host'].environment.PERFLOAD_SERVER];
    const std = { redis: '6379', mongo: '27017', appliance: '8000' };
    for (const u of urls) {
      const { hostname, port } = new URL(u);
      assert.ok(m.services[hostname], `${u}: no service ${hostname}`);
      assert.equal(port, std[hostname], u);
    }
  });

  test('docs/deploy.md names every service, the container-only settings and every runtime package', () => {
    const deploy = fs.readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
    const m = composeModel(writeEnv(tmpdir()));
    for (const svc of Object.keys(m.services)) assert.ok(deploy.includes(`\`${svc}\``), `deploy.md mentions \`${svc}\``);
    for (const svc of Object.values(m.services)) {
      for (const v of Object.keys(svc.environment || {}).filter((k) => !k.startsWith('PERFLOAD_'))) {
        assert.ok(deploy.includes(v), `deploy.md documents ${v}`);
      }
    }
    for (const t of TARGETS) {
      for (const p of aptInstallList(stageByName(dockerfile, t))) assert.ok(deploy.includes(p), `deploy.md lists ${p}`);
    }
  });
});

// ---- the scripts the images run ----------------------------------------------

function healthcheck(port, env = {}) {
  return runAsync(path.join(DOCKER_DIR, 'healthcheck.sh'), port ? [String(port)] : [],
    { env: { PATH: process.env.PATH, ...env } });
}

describe('container scripts', () => {
  test('perfload-healthcheck: 0 only for a 200 from /healthz', async () => {
    let status = 200;
    const seen = [];
    const srv = http.createServer((req, res) => { seen.push(req.url); res.writeHead(status); res.end('{}'); });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    try {
      assert.equal((await healthcheck(port)).code, 0);
      assert.equal((await healthcheck(null, { PERFLOAD_HTTP_PORT: String(port) })).code, 0, 'port from the env');
      assert.deepEqual(seen, ['/healthz', '/healthz']);
      status = 503;
      const r = await healthcheck(port);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /503/);
    } finally {
      await new Promise((r) => srv.close(r));
    }
    assert.equal((await healthcheck(await freePort())).code, 1, 'nothing listening');
  });

  test('perfload-healthcheck passes against the real appliance', async () => {
    const redis = await startRedis();
    const a = await startAppliance({ redisUrl: redis.url });
    const r = await waitFor(async () => { const x = await healthcheck(a.httpPort); return x.code === 0 && x; },
      10000, 'healthcheck rc 0');
    assert.equal(r.code, 0);
    await a.stop();
    assert.equal((await healthcheck(a.httpPort)).code, 1, 'fails once the appliance is gone');
  });

  function fakeAgentPath() {
    const dir = tmpdir('perfload-fake-agent-');
    const f = path.join(dir, 'perfload-agent');
    fs.writeFileSync(f, '#!/bin/sh\necho "ARGS $*"\nexec sleep 60\n', { mode: 0o755 });
    return `${dir}:${process.env.PATH}`;
  }
  const entrypoint = path.join(DOCKER_DIR, 'agent-entrypoint.sh');
  const argsOf = (p) => waitFor(() => /ARGS (.*)\n/.exec(p.output())?.[1], 5000, 'agent args');

  test('agent ids: replicas sharing AGENT_ID_DIR get distinct slots; a freed slot is reused', async () => {
    const env = { ...process.env, PATH: fakeAgentPath(), AGENT_ID_DIR: tmpdir('perfload-ids-'), AGENT_ID_PREFIX: 'box' };
    const procs = [];
    for (let i = 0; i < 3; i++) {
      procs.push(startProcess(entrypoint, ['--interval', '2'], { env }));
      await argsOf(procs[i]); // one at a time, like containers starting
    }
    const ids = await Promise.all(procs.map(async (p) => (await argsOf(p)).match(/--id (\S+)/)[1]));
    assert.deepEqual(ids, ['box-1', 'box-2', 'box-3']);
    assert.match(await argsOf(procs[0]), /--id box-1 --interval 2$/, 'user args pass through');
    // "Container 2" stops (its lock dies with the agent) and a new one starts.
    await stopProcess(procs[1]);
    const again = startProcess(entrypoint, [], { env });
    assert.match(await argsOf(again), /--id box-2$/);
    const fourth = startProcess(entrypoint, [], { env });
    assert.match(await argsOf(fourth), /--id box-4$/);
  });

  test('agent ids: PERFLOAD_AGENT_ID wins over slots; neither leaves the agent its own default', async () => {
    const PATH = fakeAgentPath();
    const fixed = startProcess(entrypoint, ['--once'],
      { env: { ...process.env, PATH, PERFLOAD_AGENT_ID: 'rack7', AGENT_ID_DIR: tmpdir('perfload-ids-') } });
    assert.equal(await argsOf(fixed), '--once', 'the agent reads PERFLOAD_AGENT_ID itself');
    const plain = startProcess(entrypoint, ['--proc-root', '/host'], { env: { ...process.env, PATH } });
    assert.equal(await argsOf(plain), '--proc-root /host');
  });

  test('the real agent through the entrypoint: --once reports the slot id, --proc-root reads a mounted root', async () => {
    const binDir = path.dirname(bin('perfload-agent'));
    const env = { ...process.env, PATH: `${binDir}:${process.env.PATH}`, AGENT_ID_DIR: tmpdir('perfload-ids-') };
    const r = await runAsync(entrypoint, ['--once'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).macA, 'agent-1');
    // What agent-host does: the host's /proc and /sys under /host.
    const host = tmpdir('perfload-hostroot-');
    fs.symlinkSync('/proc', path.join(host, 'proc'));
    fs.symlinkSync('/sys', path.join(host, 'sys'));
    const h = await runAsync(entrypoint, ['--once', '--proc-root', host], { env: { ...env, AGENT_ID_DIR: '' } });
    assert.equal(h.code, 0, h.stderr);
    const sample = JSON.parse(h.stdout);
    assert.equal(sample.numCores, os.cpus().length);
  });
});

// ---- the build stage, for real, in a clean clone -----------------------------

/**
 * What is wrong with a runtime stage, given the build stage's result under
 * root (a local stand-in for the build image's /): a file it copies from the
 * build stage is missing; a binary links (DT_NEEDED) a library whose package
 * the stage does not install; a library ldd loads is outside the apt closure
 * of the stage's packages; or the stage installs a package no binary links
 * (and that is not a listed tool/data package).
 */
function runtimeProblems(stage, root) {
  const problems = [];
  const pkgs = aptInstallList(stage);
  const closure = aptClosure(pkgs);
  const direct = new Set();
  for (const c of copiesFrom(stage, 'build')) {
    const local = path.join(root, c.src);
    if (!fs.existsSync(local)) { problems.push(`COPY --from=build ${c.src}: not built`); continue; }
    if (fs.statSync(local).isDirectory()) {
      if (!fs.existsSync(path.join(local, 'index.html'))) problems.push(`${c.src} has no index.html`);
      continue;
    }
    const libs = lddLibs(local);
    for (const soname of neededLibs(local)) {
      const file = libs.get(soname);
      const pkg = file && packageOf(file);
      if (!pkg) { problems.push(`${c.src}: ${soname} resolves to no Debian package (${file})`); continue; }
      if (BASE_PACKAGES.has(pkg)) continue;
      direct.add(pkg);
      if (!pkgs.includes(pkg)) {
        problems.push(`${path.basename(c.src)} links ${soname} from ${pkg}, which the runtime stage does not install`);
      }
    }
    for (const [soname, file] of libs) {
      const pkg = packageOf(file);
      if (pkg && !BASE_PACKAGES.has(pkg) && !closure.has(pkg)) {
        problems.push(`${path.basename(c.src)} loads ${soname} (${pkg}), not pulled in by ${pkgs.join(' ')}`);
      }
    }
  }
  for (const p of pkgs) {
    if (!direct.has(p) && !NON_LIBRARY_PACKAGES.has(p)) {
      problems.push(`installs ${p}, but no binary of that image links it (drop it or say why)`);
    }
  }
  return problems;
}

describe('Dockerfile build stage replayed in a clean clone', () => {
  test('RUN lines build every file the runtime stages copy, linked only against installed packages',
    { timeout: 15 * 60 * 1000 }, async (t) => {
      const build = stageByName(dockerfile, 'build');

      // A clean clone holds only committed files -- the same as a fresh CI
      // checkout, and (with .dockerignore) the same as the build context.
      const tmp = tmpdir('perfload-docker-build-');
      const context = path.join(tmp, 'context');
      const clone = run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, context]);
      assert.equal(clone.code, 0, clone.stderr);
      const patterns = readDockerignore(path.join(context, '.dockerignore'));

      // The stage's instructions in order: WORKDIR, ENV, COPY from the
      // context into a local stand-in for the image's /, RUN there.
      // Docker's environment, not ours: no MAKEFLAGS/BUILD/PERFLOAD_* leak in;
      // npm reads tarballs from its cache when it can (loopback-only here).
      const root = path.join(tmp, 'image');
      let workdir = '/';
      const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: os.homedir(),
        npm_config_prefer_offline: 'true' };
      for (const ins of build.instructions) {
        if (ins.cmd === 'WORKDIR') {
          workdir = path.posix.resolve(workdir, ins.args);
          fs.mkdirSync(path.join(root, workdir), { recursive: true });
        } else if (ins.cmd === 'ENV') {
          Object.assign(env, stageEnv({ instructions: [ins] }));
        } else if (ins.cmd === 'COPY') {
          assert.ok(!ins.args.includes('--from'), 'the build stage copies only from the context');
          applyCopy(ins.args, context, root, workdir, patterns);
        } else if (ins.cmd === 'RUN') {
          const t0 = Date.now();
          const r = await runAsync('/bin/sh', ['-c', ins.args], { cwd: path.join(root, workdir), env });
          const tail = (r.stdout + r.stderr).split('\n').slice(-40).join('\n');
          assert.equal(r.code, 0, `Dockerfile line ${ins.line}: RUN ${ins.args} failed (rc ${r.code})\n${tail}`);
          t.diagnostic(`RUN ${ins.args}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
      }

      for (const target of TARGETS) {
        assert.deepEqual(runtimeProblems(stageByName(dockerfile, target), root), [], `image ${target}`);
      }
      // The check itself bites: drop a linked library's package and add an unused one.
      const app = stageByName(dockerfile, 'appliance');
      const mutated = { ...app, instructions: app.instructions.map((x) => (x.cmd !== 'RUN' ? x
        : { ...x, args: x.args.replace(/\blibhiredis0\.14\b/, 'libfuse3-3') })) };
      const problems = runtimeProblems(mutated, root).join('\n');
      assert.match(problems, /links libhiredis\.so\.0\.14 from libhiredis0\.14, which the runtime stage does not install/);
      assert.match(problems, /installs libfuse3-3, but no binary of that image links it/);
    });
});
