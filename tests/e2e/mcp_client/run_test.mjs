// What ctest runs: checks that the pinned npm packages are installed, then runs the test.
//
//   node --test-reporter=spec run_test.mjs <stdio|http> <path of the built troupe binary>
import fs from 'node:fs';

const [which, binary] = process.argv.slice(2);
if (!['stdio', 'http'].includes(which) || !binary) {
  console.error('usage: node run_test.mjs <stdio|http> <path of the built troupe binary>');
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
    console.error(`tests/e2e/mcp_client: ${name} ${pinned} is not installed` +
                  `${version ? ` (found ${version})` : ''}; run scripts/install-deps.sh ` +
                  '(or `npm ci` in tests/e2e/mcp_client)');
    process.exit(1);
  }
}
process.env.TROUPE_BINARY = binary;
process.env.TRANSPORT = which;
await import('./mcp_client.test.mjs');
