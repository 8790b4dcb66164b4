// What ctest runs: checks that the pinned npm dependencies are installed, then runs one test.
//
//   node --test-reporter=spec run_test.mjs <http|stdio> <path of the built troupe binary>
//   node --test-reporter=spec run_test.mjs <client-http|client-stdio> <troupe binary>
//
// http/stdio: troupe's server with the SDK v2 client (mcp_sdk2.test.mjs); client-*: troupe as
// the client of an SDK v2 server (mcp_client2026.test.mjs).
//
// Without this check a missing node_modules would surface as an ERR_MODULE_NOT_FOUND stack trace
// from the first import.
import { requirePinnedPackages } from '../pinned_packages.mjs';

const [which, binary] = process.argv.slice(2);
if (!['http', 'stdio', 'client-http', 'client-stdio'].includes(which) || !binary) {
  console.error('usage: node run_test.mjs <http|stdio|client-http|client-stdio> <path of the built troupe binary>');
  process.exit(2);
}

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(`node ${process.versions.node} is too old for the MCP SDK v2 e2e tests (need >= 20)`);
  process.exit(1);
}

requirePinnedPackages(new URL('.', import.meta.url));
// The shared harness (../mcp/harness.mjs) imports nothing from npm.
process.env.TROUPE_BINARY = binary;
process.env.TROUPE_E2E_TRANSPORT = which.replace('client-', '');
await import(which.startsWith('client-') ? './mcp_client2026.test.mjs' : './mcp_sdk2.test.mjs');
