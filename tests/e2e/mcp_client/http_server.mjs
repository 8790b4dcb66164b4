// server-everything over streamable HTTP on 127.0.0.1 (its own HTTP entry point listens on
// every interface): one SDK transport per session. Prints "port N" on stdout when listening.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createServer } from '@modelcontextprotocol/server-everything/dist/server/index.js';

const transports = new Map();
const server = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const parsed = body ? JSON.parse(body) : undefined;
  const sid = req.headers['mcp-session-id'];
  let transport = sid ? transports.get(sid) : undefined;
  if (!transport) {
    if (sid || parsed?.method !== 'initialize') {
      res.writeHead(404).end();
      return;
    }
    const { server: mcp } = createServer();
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    transport.onclose = () => transports.delete(transport.sessionId);
    await mcp.connect(transport);
  }
  await transport.handleRequest(req, res, parsed);
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
