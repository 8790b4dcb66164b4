// What ctest runs (e2e.dashboard): checks that playwright-core is installed at its pinned version
// and that Debian's chromium is there, then runs the browser test.
//
//   node --test-reporter=spec run_test.mjs <path of the built troupe binary>
import fs from 'node:fs';
import { requirePinnedPackages } from '../pinned_packages.mjs';

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node run_test.mjs <path of the built troupe binary>');
  process.exit(2);
}
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(`node ${process.versions.node} is too old for playwright-core (need >= 20)`);
  process.exit(1);
}
requirePinnedPackages(new URL('.', import.meta.url));
const chromium = process.env.TROUPE_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) {
  console.error(`${chromium} is missing: run scripts/install-deps.sh (Debian package chromium)`);
  process.exit(1);
}

process.env.TROUPE_BINARY = binary;
await import('./dashboard.test.mjs');
