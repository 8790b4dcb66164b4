// What ctest runs: checks that the pinned npm dependencies are installed, then runs the test.
//
//   node --test-reporter=spec run_test.mjs <path of the built troupe binary>
//
// Without this check a missing node_modules would surface as an ERR_MODULE_NOT_FOUND stack trace
// from the first import.
import { requirePinnedPackages } from '../pinned_packages.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node run_test.mjs <path of the built troupe binary>');
  process.exit(2);
}

requirePinnedPackages(new URL('.', import.meta.url));

process.env.TROUPE_BINARY = binary;
await import('./sdk_request_types.test.mjs');
