// Malformed JSON-RPC sent raw, outside the SDK (which would never send it): each gets the right
// error, and the server — and every other session — keeps working.
import assert from 'node:assert/strict';
import { once } from 'node:events';

import { REQUEST_TIMEOUT_MS } from './scenario.mjs';

const FOUR_MIB = 4 * 1024 * 1024;

function padded(id, bytes) {
  const head = `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"_meta":{"pad":"`;
  const tail = '"}}}';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

function deeplyNested(id, depth) {
  return `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
}

// The cases sent over both transports after initialize: [name, body, check(message)].
function errorCases() {
  const code = (want, idWant) => (m) => {
    assert.equal(m.jsonrpc, '2.0', JSON.stringify(m));
    assert.ok(m.error, `expected an error response, got ${JSON.stringify(m)}`);
    const codes = Array.isArray(want) ? want : [want];
    assert.ok(codes.includes(m.error.code), `error code ${m.error.code}, expected ${codes}: ${JSON.stringify(m)}`);
    assert.equal(typeof m.error.message, 'string');
    assert.ok(m.error.message.length > 0);
    if (idWant !== undefined) assert.deepEqual(m.id, idWant, JSON.stringify(m));
    return m;
  };
  return [
    ['broken JSON -> -32700, id null', '{"jsonrpc":"2.0","id":101,"method":"ping"', code(-32700, null)],
    ['a batch -> -32600', '[{"jsonrpc":"2.0","id":102,"method":"ping"},{"jsonrpc":"2.0","id":103,"method":"ping"}]',
     code(-32600, null)],
    ['an empty batch -> -32600', '[]', code(-32600, null)],
    ['a number method -> -32600', '{"jsonrpc":"2.0","id":104,"method":42}', code(-32600)],
    ['params a string -> -32600/-32602', '{"jsonrpc":"2.0","id":105,"method":"tools/list","params":"all"}',
     code([-32600, -32602])],
    ['jsonrpc "1.0" -> -32600', '{"jsonrpc":"1.0","id":106,"method":"ping"}', code(-32600)],
    ['an object id -> -32600, id null', '{"jsonrpc":"2.0","id":{"n":1},"method":"ping"}', code(-32600, null)],
    ['a 1000-deep value -> -32600', deeplyNested(108, 1000), code(-32600)],
    ['an unknown method -> -32601', '{"jsonrpc":"2.0","id":109,"method":"no/such/method"}', code(-32601, 109)],
    ['tools/call of an unknown tool -> -32602',
     '{"jsonrpc":"2.0","id":110,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}',
     (m) => {
       code(-32602, 110)(m);
       assert.ok(m.error.message.includes('no_such_tool'), m.error.message);
     }],
    ['tools/call with string arguments -> -32602',
     '{"jsonrpc":"2.0","id":111,"method":"tools/call","params":{"name":"background_list","arguments":"x"}}',
     code(-32602, 111)],
    ['tools/call without a name -> -32602', '{"jsonrpc":"2.0","id":112,"method":"tools/call","params":{}}',
     code(-32602, 112)],
  ];
}

// --- Streamable HTTP -----------------------------------------------------------------------

// Raw POSTs to the daemon's /mcp in the session `sessionId()` (the SDK client's), then checks
// that the SDK session `u` still works.
export async function malformedHttp(step, daemon, sessionId, needs) {
  const post = async (body, headers = {}) => {
    const r = await fetch(`${daemon.url}/mcp`, {
      method: 'POST',
      headers: { 'Authorization': `Bearer ${daemon.token}`, 'Content-Type': 'application/json',
                 'Accept': 'application/json, text/event-stream', 'Mcp-Session-Id': sessionId(),
                 'MCP-Protocol-Version': '2025-11-25', ...headers },
      body,
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* checked by the caller */ }
    return { status: r.status, type: r.headers.get('content-type') ?? '', text, json };
  };

  for (const [name, body, check] of errorCases()) {
    await step(`HTTP: ${name}`, needs, async () => {
      const r = await post(body);
      assert.ok(r.json, `HTTP ${r.status}, body is not JSON: ${r.text.slice(0, 300)}`);
      check(r.json);
      // A message that is not valid JSON-RPC is refused as a whole (400); a valid request that
      // fails is answered like any other (200).
      const wantStatus = [-32700, -32600].includes(r.json.error.code) ? 400 : 200;
      assert.equal(r.status, wantStatus, `${r.status} ${r.text.slice(0, 300)}`);
    });
  }

  let oversize = null;
  await step('HTTP: a body over 4 MiB -> 413', needs, async () => {
    try {
      oversize = await post(padded(120, FOUR_MIB + 4096));
    } catch (e) {
      assert.fail(`the POST of 4 MiB + 4 KiB failed without an HTTP answer: ${e.cause ?? e}`);
    }
    assert.equal(oversize.status, 413, oversize.text.slice(0, 300));
  });

  await step('HTTP: the 413 body is a JSON-RPC error (mcp/mcp_http.h)', ['HTTP: a body over 4 MiB -> 413'],
             async () => {
    const m = oversize.json;
    assert.ok(m?.jsonrpc === '2.0' && Number.isInteger(m.error?.code),
              `413 body is not a JSON-RPC error response: ${oversize.text.slice(0, 300)}`);
  });

  await step('HTTP: a 2 MiB message (under the 4 MiB limit) is answered', needs, async () => {
    const r = await post(padded(122, 2 * 1024 * 1024));
    assert.equal(r.status, 200, `HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    assert.deepEqual(r.json?.result, {}, r.text.slice(0, 300));
  });

  await step('HTTP: no Mcp-Session-Id -> 400; an unknown one -> 404', needs, async () => {
    const ping = '{"jsonrpc":"2.0","id":121,"method":"ping"}';
    const none = await post(ping, { 'Mcp-Session-Id': '' });
    assert.equal(none.status, 400, none.text);
    const unknown = await post(ping, { 'Mcp-Session-Id': '0'.repeat(32) });
    assert.equal(unknown.status, 404, unknown.text);
  });
}

// --- stdio ---------------------------------------------------------------------------------

// A `troupe mcp` child driven line by line.
class RawStdioPeer {
  constructor(sandbox, label) {
    this.child = sandbox.spawnTroupe(label, ['mcp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    this.child.stdin.on('error', () => {});  // EPIPE when the child died: seen by the checks
    let buffer = '';
    this.child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        this.waiters.shift()?.();
      }
    });
  }

  async write(text) {
    if (!this.child.stdin.write(`${text}\n`)) await once(this.child.stdin, 'drain');
  }

  // The next line from the child, parsed.
  async next(timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.lines.length) {
      let timer;
      await Promise.race([
        new Promise((resolve) => this.waiters.push(resolve)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(
            `no line from troupe mcp within ${timeoutMs} ms (exit code ${this.child.exitCode}); ` +
            `stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    const line = this.lines.shift();
    try {
      return JSON.parse(line);
    } catch {
      assert.fail(`troupe mcp wrote a line that is not JSON: ${line.slice(0, 500)}`);
    }
  }

  // Sends `text` and returns the response with `id` (skipping notifications).
  async request(text, id) {
    await this.write(text);
    for (;;) {
      const m = await this.next();
      if ('method' in m && !('id' in m)) continue;
      if (id !== undefined) assert.deepEqual(m.id, id, `expected the response to id ${id}: ${JSON.stringify(m)}`);
      return m;
    }
  }
}

// A second `troupe mcp` fed malformed lines around a valid session.
export async function malformedStdio(step, sandbox, needs) {
  let peer = null;
  const live = () => {
    assert.ok(peer, 'the raw troupe mcp child did not start');
    assert.equal(peer.child.exitCode, null, `troupe mcp exited: stderr ${peer.stderr.slice(-2000)}`);
  };

  const started = 'stdio: broken JSON before initialize -> a -32700 line';
  await step(started, needs, async () => {
    peer = new RawStdioPeer(sandbox, 'mcp-raw');
    const m = await peer.request('{"jsonrpc":"2.0","id":1,"method":"initialize"');
    assert.equal(m.error?.code, -32700, JSON.stringify(m));
    assert.equal(m.id, null, JSON.stringify(m));
  });

  await step('stdio: a line over 4 MiB -> a -32600 line', [started], async () => {
    live();
    const m = await peer.request(padded(2, FOUR_MIB + 4096));
    assert.equal(m.error?.code, -32600, JSON.stringify(m).slice(0, 500));
  });

  await step('stdio: then a valid initialize works', [started], async () => {
    live();
    const m = await peer.request(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'initialize', params: {
      protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }), 3);
    assert.equal(m.result?.protocolVersion, '2025-11-25', JSON.stringify(m));
    assert.equal(m.result.serverInfo?.name, 'troupe');
    await peer.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  });

  const init = 'stdio: then a valid initialize works';
  for (const [name, body, check] of errorCases()) {
    await step(`stdio: ${name}`, [init], async () => {
      live();
      await peer.write(body);
      let m;
      do { m = await peer.next(); } while ('method' in m && !('id' in m));
      check(m);
    });
  }

  await step('stdio: a 2 MiB message (under the 4 MiB limit) is answered', [init], async () => {
    live();
    const m = await peer.request(padded(130, 2 * 1024 * 1024), 130);
    assert.deepEqual(m.result, {}, `expected the ping's empty result: ${JSON.stringify(m).slice(0, 500)}`);
  });

  await step('stdio: the raw session still answers, and exits 0 when stdin closes', [init], async () => {
    live();
    const m = await peer.request('{"jsonrpc":"2.0","id":140,"method":"tools/call","params":' +
                                 '{"name":"background_list","arguments":{}}}', 140);
    assert.equal(m.result?.isError, false, JSON.stringify(m));
    assert.deepEqual(m.result.structuredContent?.tasks, [], 'a new session sees no tasks of another');
    peer.child.stdin.end();
    let timer;
    const exit = peer.child.exitCode !== null ? [peer.child.exitCode] :
      await Promise.race([once(peer.child, 'exit'),
                          new Promise((r) => { timer = setTimeout(() => r(['timeout']), 15_000); })]);
    clearTimeout(timer);
    assert.equal(exit[0], 0, `troupe mcp exit: ${exit}; stderr: ${peer.stderr.slice(-2000)}`);
  });
}
