// What ctest runs: checks that the pinned npm dependencies are installed, then runs the test.
//
//   node --test-reporter=spec run_test.mjs <path of the built troupe binary>
//
// Without this check a missing node_modules would surface as an ERR_MODULE_NOT_FOUND stack trace
// from the first import.
import fs from 'node:fs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node run_test.mjs <path of the built troupe binary>');
  process.exit(2);
}

const here = new URL('.', import.meta.url);
const pkg = JSON.parse(fs.readFileSync(new URL('package.json', here), 'utf8'));
for (const [name, pinned] of Object.entries(pkg.dependencies)) {
  let version = null;
  try {
    version = JSON.parse(fs.readFileSync(new URL(`node_modules/${name}/package.json`, here), 'utf8')).version;
  } catch { /* missing */ }
  if (version !== pinned) {
    console.error(`tests/e2e/sdk_types: ${name} ${pinned} is ${version ? `not installed (found ${version})` : 'not installed'}; ` +
                  'run scripts/install-deps.sh (or `npm ci` in tests/e2e/sdk_types)');
    process.exit(1);
  }
}

process.env.TROUPE_BINARY = binary;
await import('./sdk_request_types.test.mjs');
