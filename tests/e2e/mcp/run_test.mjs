// What ctest runs: checks that the pinned npm dependencies are installed, then runs one test.
//
//   node --test-reporter=spec run_test.mjs <http|stdio> <path of the built troupe binary>
//
// Without this check a missing node_modules would surface as an ERR_MODULE_NOT_FOUND stack trace
// from the first import.
import fs from 'node:fs';

const TESTS = { http: './mcp_sdk_http.test.mjs', stdio: './mcp_sdk_stdio.test.mjs' };
const [which, binary] = process.argv.slice(2);
if (!TESTS[which] || !binary) {
  console.error('usage: node run_test.mjs <http|stdio> <path of the built troupe binary>');
  process.exit(2);
}

const major = Number(process.versions.node.split('.')[0]);
if (major < 18) {
  console.error(`node ${process.versions.node} is too old for the MCP e2e tests (need >= 18)`);
  process.exit(1);
}

const here = new URL('.', import.meta.url);
const pkg = JSON.parse(fs.readFileSync(new URL('package.json', here), 'utf8'));
for (const [name, pinned] of Object.entries(pkg.dependencies)) {
  const installed = new URL(`node_modules/${name}/package.json`, here);
  let version = null;
  try {
    version = JSON.parse(fs.readFileSync(installed, 'utf8')).version;
  } catch { /* missing */ }
  if (version !== pinned) {
    console.error(`tests/e2e/mcp: ${name} ${pinned} is ${version ? `not installed (found ${version})` : 'not installed'}; ` +
                  'run scripts/install-deps.sh (or `npm ci` in tests/e2e/mcp)');
    process.exit(1);
  }
}

process.env.TROUPE_BINARY = binary;
await import(TESTS[which]);
