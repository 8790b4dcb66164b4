// The check every e2e runner makes before it imports anything from npm: each package it needs is
// installed at the exact version its package.json pins. Without it a missing node_modules would
// surface as an ERR_MODULE_NOT_FOUND stack trace from the first import.
import fs from 'node:fs';

// `dir`: the runner's folder (a file: URL ending in '/'), e.g. new URL('.', import.meta.url).
// `names`: the packages to check; by default every dependency in its package.json. Exits with
// status 1 and a message saying what to run when one is missing or at another version.
export function requirePinnedPackages(dir, names = null) {
  const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8'));
  const pinned = { ...pkg.dependencies, ...pkg.optionalDependencies };
  const folder = 'tests/e2e/' + dir.pathname.replace(/\/$/, '').split('/').pop();
  for (const name of names ?? Object.keys(pkg.dependencies ?? {})) {
    let version = null;
    try {
      version = JSON.parse(fs.readFileSync(new URL(`node_modules/${name}/package.json`, dir), 'utf8')).version;
    } catch { /* missing */ }
    if (version !== pinned[name]) {
      console.error(`${folder}: ${name} ${pinned[name]} is not installed` +
                    `${version ? ` (found ${version})` : ''}; run scripts/install-deps.sh ` +
                    `(or \`npm ci\` in ${folder})`);
      process.exit(1);
    }
  }
}
