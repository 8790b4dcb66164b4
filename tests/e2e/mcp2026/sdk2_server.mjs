// An MCP server of protocol revision 2026-07-28 built on the official SDK v2
// (@modelcontextprotocol/server), for the tests of troupe as an MCP client (e2e.mcp_client2026_*).
// The same factory serves both eras, as the SDK means it: over stdio (`serveStdio`) or over
// Streamable HTTP on 127.0.0.1 (`createMcpHandler` behind node:http), chosen by argv[2]
// ("stdio" | "http"). On http it prints "listening <port>" once bound (port 0 = a free one).
//
// Tools: `echo` (a plain result), `slow_report` (answered as a task of the tasks extension when
// the client declares io.modelcontextprotocol/tasks: tasks/get says "working" until
// SLOW_REPORT_MS have passed, then "completed" with the report; tasks/cancel cancels it) and
// `ask_user` (answers resultType "input_required", an elicitation troupe cannot give).
//
// $LOG (when set) gets one JSON line per request the server reads: method, params, and on http
// the MCP headers, so tests assert what troupe put on the wire.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

import { Server, createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod/v4';

const mode = process.argv[2] ?? 'stdio';
const log = (entry) => {
  if (process.env.LOG) appendFileSync(process.env.LOG, JSON.stringify(entry) + '\n');
};
const slowMs = Number(process.env.SLOW_REPORT_MS ?? '600');
const TASKS = 'io.modelcontextprotocol/tasks';

// Tasks outlive the per-request server instances of HTTP serving.
const tasks = new Map();
const now = () => new Date().toISOString();
function taskView(task) {
  if (task.status === 'working' && Date.now() >= task.readyAt) {
    task.status = 'completed';
    task.lastUpdatedAt = now();
  }
  const view = {
    taskId: task.taskId,
    status: task.status,
    createdAt: task.createdAt,
    lastUpdatedAt: task.lastUpdatedAt,
    ttlMs: 600000,
    pollIntervalMs: 100,
  };
  if (task.status === 'completed') {
    view.result = {
      content: [{ type: 'text', text: `report on ${task.topic}: all green (task ${task.taskId})` }],
    };
  }
  return view;
}

const TOOLS = [
  {
    name: 'echo',
    description: 'Echoes the text back.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'slow_report',
    description: 'Writes a report on a topic; takes a while (a task).',
    inputSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
  },
  {
    // x-mcp-header: over HTTP a client sends the region as Mcp-Param-Region too.
    name: 'where',
    description: 'Says where a query runs.',
    inputSchema: { type: 'object', properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' }, query: { type: 'string' } },
                   required: ['region'] },
  },
  {
    // A mark the revision forbids (a number): an HTTP client must leave this tool out.
    name: 'bad_mark',
    description: 'Has an invalid x-mcp-header.',
    inputSchema: { type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } },
  },
  {
    name: 'ask_user',
    description: 'Asks the user a question before answering.',
    inputSchema: { type: 'object', properties: {} },
  },
];

function makeServer() {
  const server = new Server(
    { name: 'sdk2-test-server', version: '2.4.0-test' },
    { capabilities: { tools: { listChanged: false }, extensions: { [TASKS]: {} } } },
  );
  server.setRequestHandler('tools/list', (request) => {
    log({ method: 'tools/list', params: request.params });
    return { tools: TOOLS, ttlMs: 60000, cacheScope: 'public' };
  });
  server.setRequestHandler('tools/call', (request, ctx) => {
    const { name, arguments: args = {} } = request.params;
    // The SDK lifts the per-request envelope off params into ctx.mcpReq.
    const envelope = ctx.mcpReq?.envelope ?? {};
    log({ method: 'tools/call', params: request.params, envelope });
    if (name === 'echo') return { content: [{ type: 'text', text: `echo: ${args.text}` }] };
    if (name === 'where') return { content: [{ type: 'text', text: `${args.query} runs in ${args.region}` }] };
    if (name === 'ask_user') {
      return {
        resultType: 'input_required',
        inputRequests: {
          q1: {
            method: 'elicitation/create',
            params: { mode: 'form', message: 'Which colour?', requestedSchema: { type: 'object', properties: {} } },
          },
        },
      };
    }
    if (name === 'slow_report') {
      const capabilities = envelope['io.modelcontextprotocol/clientCapabilities'] ?? {};
      if (!capabilities.extensions?.[TASKS]) {
        return { content: [{ type: 'text', text: `report on ${args.topic} (no task)` }] };
      }
      const task = {
        taskId: randomUUID(),
        status: 'working',
        topic: args.topic,
        createdAt: now(),
        lastUpdatedAt: now(),
        readyAt: Date.now() + slowMs,
      };
      tasks.set(task.taskId, task);
      const { result, ...view } = taskView(task);
      return { ...view, resultType: 'task' };
    }
    return { content: [{ type: 'text', text: `no tool ${name}` }], isError: true };
  });
  const taskParams = { params: z.object({ taskId: z.string() }).passthrough() };
  server.setRequestHandler('tasks/get', taskParams, (params) => {
    log({ method: 'tasks/get', params });
    const task = tasks.get(params.taskId);
    if (!task) throw Object.assign(new Error(`no task ${params.taskId}`), { code: -32602 });
    return taskView(task);
  });
  server.setRequestHandler('tasks/cancel', taskParams, (params) => {
    log({ method: 'tasks/cancel', params });
    const task = tasks.get(params.taskId);
    if (task && task.status === 'working') {
      task.status = 'cancelled';
      task.lastUpdatedAt = now();
    }
    return {};
  });
  return server;
}

if (mode === 'stdio') {
  serveStdio(() => makeServer());
} else {
  const handler = createMcpHandler(() => makeServer());
  const http = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = {};
    for (const h of ['mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id',
                     'mcp-param-region']) {
      if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    }
    log({ http: req.method, headers });
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
      signal: abort.signal,
    });
    try {
      const response = await handler.fetch(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  });
  http.listen(Number(process.env.PORT ?? '0'), '127.0.0.1', () => {
    process.stdout.write(`listening ${http.address().port}\n`);
  });
  const stop = () => http.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
