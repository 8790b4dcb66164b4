// What ctest runs: checks that the client can run here, then runs its test.
//
//   node --test-reporter=spec run_test.mjs <client> <path of the built troupe binary>
//
// Exit 77 (ctest's SKIP_RETURN_CODE) only when the client cannot run on this machine at all:
// Gemini CLI on node < 20, OpenCode on a platform its pinned native package is not for, Claude
// Code on a platform it ships no binary for. A package that should be installed and is not is a
// failure that says to run scripts/install-deps.sh.
import { spawnSync } from 'node:child_process';
import { requirePinnedPackages } from '../pinned_packages.mjs';

const SKIP = 77;
const nodeMajor = Number(process.versions.node.split('.')[0]);
const platform = `${process.platform}-${process.arch}`;

const CLIENTS = {
  inspector_stdio: { test: './inspector_stdio.test.mjs',
                     packages: ['@modelcontextprotocol/inspector-cli'] },
  inspector_http: { test: './inspector_http.test.mjs',
                    packages: ['@modelcontextprotocol/inspector-cli'] },
  claude_code: {
    test: './claude_code.test.mjs',
    packages: ['@anthropic-ai/claude-code'],
    platforms: ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64'],
    probe: ['@anthropic-ai/claude-code/bin/claude.exe', '--version'],
  },
  opencode: {
    test: './opencode.test.mjs',
    packages: ['opencode-linux-x64'],
    platforms: ['linux-x64'],  // package.json pins this platform's package only
    probe: ['opencode-linux-x64/bin/opencode', '--version'],
  },
  gemini_cli: { test: './gemini_cli.test.mjs', packages: ['@google/gemini-cli'], minNode: 20 },
};

const [which, binary] = process.argv.slice(2);
const client = CLIENTS[which];
if (!client || !binary) {
  console.error(`usage: node run_test.mjs <${Object.keys(CLIENTS).join('|')}> <troupe binary>`);
  process.exit(2);
}

function skip(reason) {
  console.log(`SKIP ${which}: ${reason}`);
  process.exit(SKIP);
}

if (nodeMajor < 18) {
  console.error(`node ${process.versions.node} is too old for the e2e tests (need >= 18)`);
  process.exit(1);
}
if (client.minNode && nodeMajor < client.minNode) {
  skip(`it needs node >= ${client.minNode} (its package's engines); this is node ${process.versions.node}`);
}
if (client.platforms && !client.platforms.includes(platform)) {
  skip(`its pinned package has no binary for ${platform} (only ${client.platforms.join(', ')})`);
}

const here = new URL('.', import.meta.url);
requirePinnedPackages(here, client.packages);

if (client.probe) {
  const [bin, ...args] = client.probe;
  const file = new URL(`node_modules/${bin}`, here).pathname;
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) {
    console.error(`tests/e2e/clients: \`${bin} ${args.join(' ')}\` failed ` +
                  `(${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').slice(0, 1000)}\n` +
                  'run scripts/install-deps.sh (it links the native binary into place)');
    process.exit(1);
  }
  console.log(`${bin}: ${r.stdout.trim()}`);
}

process.env.TROUPE_BINARY = binary;
await import(client.test);
