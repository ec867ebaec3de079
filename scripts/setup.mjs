#!/usr/bin/env node
// Idempotent setup, run before `npm run demo` and `npm test` (predemo/pretest).
// 1. installs the npm dependencies when they are missing or older than package-lock.json;
// 2. checks that a WebGPU adapter can be created; when none can and we are root on Debian
//    bookworm, installs Mesa lavapipe (CPU Vulkan) from bookworm-backports (bookworm's own
//    Mesa 22.3 is too old for current Dawn); otherwise stops with the commands to run by hand.
// When everything is present it costs one adapter probe (well under 2 s).
// Plain Node on purpose: it must run before node_modules exist.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => console.error(`[setup] ${msg}`);
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'lowbit-xdg-'));

function npmDependenciesStale() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installed)) return true;
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
}

// Runs in a child process: a missing Vulkan driver can abort Dawn, and the parent must survive it.
const PROBE = `
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.log('NO_ADAPTER'); process.exit(0); }
const info = adapter.info;
console.log('ADAPTER ' + JSON.stringify({ vendor: info.vendor, architecture: info.architecture, description: info.description }));
process.exit(0);
`;

function probeAdapter() {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: root, encoding: 'utf8', env: process.env, timeout: 60_000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('ADAPTER '));
  return line ? JSON.parse(line.slice('ADAPTER '.length)) : { error: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
}

const MESA_COMMANDS = [
  `echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list`,
  'apt-get update',
  'apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1',
];

function isDebianBookworm() {
  try { return /VERSION_CODENAME=bookworm/.test(readFileSync('/etc/os-release', 'utf8')); } catch { return false; }
}

function installLavapipe() {
  say('no WebGPU adapter: installing Mesa lavapipe (CPU Vulkan) from bookworm-backports');
  writeFileSync('/etc/apt/sources.list.d/bookworm-backports.list', 'deb http://deb.debian.org/debian bookworm-backports main\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', '-t', 'bookworm-backports', 'mesa-vulkan-drivers', 'libvulkan1'], { stdio: 'inherit', env });
}

if (npmDependenciesStale()) {
  say('installing npm dependencies (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

let adapter = probeAdapter();
if (adapter.error) {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && isDebianBookworm()) {
    installLavapipe();
    adapter = probeAdapter();
  } else {
    say(`no WebGPU adapter could be created:\n${adapter.error}`);
    say(`on Debian bookworm, run as root:\n  ${MESA_COMMANDS.join('\n  ')}`);
    process.exit(1);
  }
}
if (adapter.error) {
  say(`still no WebGPU adapter after installing Mesa lavapipe:\n${adapter.error}`);
  process.exit(1);
}
say(`adapter: ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ')}`);
