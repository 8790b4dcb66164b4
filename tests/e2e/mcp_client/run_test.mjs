// What ctest runs: checks that the pinned npm packages are installed, then runs the test.
//
//   node --test-reporter=spec run_test.mjs <stdio|http> <path of the built troupe binary>
import { requirePinnedPackages } from '../pinned_packages.mjs';

const [which, binary] = process.argv.slice(2);
if (!['stdio', 'http'].includes(which) || !binary) {
  console.error('usage: node run_test.mjs <stdio|http> <path of the built troupe binary>');
  process.exit(2);
}
requirePinnedPackages(new URL('.', import.meta.url));
process.env.TROUPE_BINARY = binary;
process.env.TRANSPORT = which;
await import('./mcp_client.test.mjs');
