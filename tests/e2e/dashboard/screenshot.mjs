// Regenerates docs/dashboard.png from the real board: a scratch `troupe serve` on the offline
// scripted model (two tasks at a time), a few tasks in every state (completed, failed, cancelled,
// running with tool calls and tokens, pending in the pool's queue, a lead with delegated
// children), and Debian's chromium at 1280×800 with the detail of nothing open.
//
//   node screenshot.mjs <path of the built troupe binary> <output.png> [width] [height]
// (scripts/dashboard-screenshot.sh runs it with docs/dashboard.png.)
import fs from 'node:fs';
import path from 'node:path';
import { requirePinnedPackages } from '../pinned_packages.mjs';

requirePinnedPackages(new URL('.', import.meta.url));
const [binary, out, width = '1280', height = '800'] = process.argv.slice(2);
if (!binary || !out) {
  console.error('usage: node screenshot.mjs <troupe binary> <output.png> [width] [height]');
  process.exit(2);
}
process.env.TROUPE_BINARY = binary;
const { TroupeSandbox, waitUntil, sleep } = await import('../mcp/harness.mjs');
const { dashboardUrl, launchChromium, restClient } = await import('./browser.mjs');

const CONFIG = `{
  "default_model": "mock/scripted",
  "background_task": { "modelConcurrency": { "mock/scripted": 2, "mock/lead": 4 } },
  "providers": { "mock": { "type": "mock", "script": "latency=0 tps=0" } },
}
`;
const sandbox = new TroupeSandbox('dashboard-screenshot');
fs.writeFileSync(sandbox.config, CONFIG);
let browser = null;
try {
  const serve = await sandbox.startServe();
  const rest = restClient(serve.url, serve.token);
  const launch = async (description, prompt, extra = {}) =>
    (await rest('POST', '/v1/tasks', { description, prompt, ...extra })).task;

  // finished ones first
  await launch('Summarise the README', '#mock latency=300 reply="The README explains install, config and the CLI."', { wait_ms: 10_000 });
  await launch('Find the retry policy', '#mock tool=grep:{"pattern":"retry"} latency=200 reply="src/llm/retry.cc"', { wait_ms: 10_000 });
  await launch('Call a model that refuses', '#mock fail=400 fail_message="model not found: gpt-9"', { wait_ms: 10_000 });
  const c = await launch('Refactor the store', '#mock latency=60s');
  await rest('POST', `/v1/tasks/${c.id}/cancel`, { reason: 'changed my mind' });
  // a lead with children, on a pool of its own
  await launch('Plan the release', '#mock tool=delegate_task:{"description":"Map the source tree","prompt":"#mock tps=2 tokens=400","agent":"explore","background":true,"model":"mock/lead"} ' +
               'tool=delegate_task:{"description":"Check the changelog","prompt":"#mock latency=400 reply=ok","agent":"explore","background":true,"model":"mock/lead"} tool@2=background_wait:{\"timeout_ms\":60000} tps=0 reply=\"planned\"',
               { agent: 'lead', model: 'mock/lead' }).catch((e) => console.error(`no tree in the screenshot: ${e.message}`));
  // two running (tool turns, then a slow reply), three waiting behind them
  await launch('Write the migration tests', '#mock tool=list:{"path":"."} tool@2=read:{"path":"README.md"} tps=2 tokens=600');
  await launch('Review the HTTP parser', '#mock tool=grep:{"pattern":"Content-Length"} tps=2 tokens=600');
  for (const d of ['Update the docs', 'Bump the dependencies', 'Profile the scheduler']) await launch(d, '#mock latency=30s');

  const url = await dashboardUrl(sandbox);
  browser = await launchChromium({ width: Number(width), height: Number(height) });
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-testid="conn-status"][data-conn="live"]', { timeout: 20_000, state: 'attached' });
  await waitUntil(() => page.evaluate(() => document.querySelectorAll('[data-testid="task-row"][data-state="running"]').length >= 2),
                  20_000, 'two running rows');
  await sleep(3500);  // a few seconds of progress: turns, tools, tokens
  await page.screenshot({ path: out });
  console.log(`wrote ${path.resolve(out)}`);
} finally {
  if (browser) await browser.close();
  await sandbox.stopDaemon();
}
