// What ctest runs: checks that the pinned npm dependencies are installed, then runs one test.
//
//   node --test-reporter=spec run_test.mjs <http|stdio> <path of the built troupe binary>
//
// Without this check a missing node_modules would surface as an ERR_MODULE_NOT_FOUND stack trace
// from the first import.
import { requirePinnedPackages } from '../pinned_packages.mjs';

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

requirePinnedPackages(new URL('.', import.meta.url));

process.env.TROUPE_BINARY = binary;
await import(TESTS[which]);
