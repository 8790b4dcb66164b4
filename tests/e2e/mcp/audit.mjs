// Schema validation of every message a client receives, on top of what the SDK checks itself.
//
// The SDK's Client validates each result it asked for with the method's zod schema, and a
// tools/call result's structuredContent with the tool's outputSchema. It does not look at
// notifications nobody subscribed to, at tasks/result payloads, nor at messages the transport
// could not parse (those only reach onerror). So every byte the server sends is also tapped
// below the SDK — the HTTP responses through the transport's `fetch`, the stdio child's stdout
// line by line — and each message is checked against the SDK's own schemas
// (@modelcontextprotocol/sdk/types.js):
//   - JSONRPCMessageSchema for every message;
//   - a response: its id was sent by us and not answered before, and its result matches the
//     result schema of the request's method (tools/call with params.task: CreateTaskResult);
//     a tools/call or tasks/result payload's structuredContent matches the tool's outputSchema
//     (with the SDK's Ajv validator);
//   - a notification: ServerNotificationSchema; a notifications/progress names the token of a
//     request of ours that is still unanswered; a request: ServerRequestSchema.
// Failures are collected with the offending message; the test asserts there are none.
//
// One SDK error is left to the raw check: on stdio, when a request's last progress notifications
// and its response arrive in one read from the pipe, the SDK's Protocol handles the response at
// once but each notification in a later microtask, after the response removed the progress
// handler, and reports "Received a progress notification for an unknown token" although the
// server sent them in order. The order on the wire is what the raw check above verifies.
import {
  CallToolResultSchema, CancelTaskResultSchema, CreateTaskResultSchema, EmptyResultSchema,
  GetTaskPayloadResultSchema, GetTaskResultSchema, InitializeResultSchema, JSONRPCMessageSchema,
  ListTasksResultSchema, ListToolsResultSchema, ServerNotificationSchema, ServerRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { StringDecoder } from 'node:string_decoder';

const RESULT_SCHEMAS = {
  'initialize': InitializeResultSchema,
  'ping': EmptyResultSchema,
  'logging/setLevel': EmptyResultSchema,
  'tools/list': ListToolsResultSchema,
  'tasks/get': GetTaskResultSchema,
  'tasks/list': ListTasksResultSchema,
  'tasks/cancel': CancelTaskResultSchema,
};

function idKey(id) {
  return `${typeof id}:${id}`;
}

function describeZod(error) {
  return error.issues
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

function clip(text, max = 2000) {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} bytes)` : text;
}

export class MessageAudit {
  constructor(label) {
    this.label = label;
    this.sent = new Map();  // idKey -> {method, params}
    this.progressTokens = new Map();  // idKey of a progressToken -> idKey of its request
    this.answered = new Set();
    this.outputValidators = new Map();  // tool name -> validator
    this.taskTools = new Map();  // MCP taskId -> tool name
    this.failures = [];
    this.received = 0;
    this.notifications = [];  // every notification received (validated or not), in order
    this.initializeResult = null;
    this.validator = new AjvJsonSchemaValidator();
    this.closing = false;
  }

  fail(what, text) {
    this.failures.push(`${this.label}: ${what}\n    message: ${clip(text)}`);
  }

  // A message we send (through the wrapped transport).
  onSend(message) {
    if (message && typeof message === 'object' && 'method' in message && 'id' in message) {
      this.sent.set(idKey(message.id), { method: message.method, params: message.params ?? {} });
      const token = message.params?._meta?.progressToken;
      if (token !== undefined) this.progressTokens.set(idKey(token), idKey(message.id));
    }
  }

  // The transport's onerror: a message it could not parse or a connection failure.
  onTransportError(error) {
    if (this.closing) return;
    if (/^Received a progress notification for an unknown token/.test(error?.message ?? '')) return;
    this.failures.push(`${this.label}: the transport reported an error: ${error?.stack ?? error}`);
  }

  // One message as received on the wire (the text of a line, a JSON body or an SSE data field).
  raw(text) {
    this.received += 1;
    let value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.fail(`not JSON (${e.message})`, text);
      return;
    }
    const messages = Array.isArray(value) ? value : [value];
    if (Array.isArray(value)) this.fail('a JSON-RPC batch (MCP 2025-06-18 removed batching)', text);
    for (const m of messages) this.#check(m, JSON.stringify(m));
  }

  #check(message, text) {
    const parsed = JSONRPCMessageSchema.safeParse(message);
    if (!parsed.success) {
      this.fail(`not a JSON-RPC message per the SDK's JSONRPCMessageSchema: ${describeZod(parsed.error)}`, text);
      return;
    }
    const hasId = 'id' in message;
    if ('method' in message && hasId) {
      const r = ServerRequestSchema.safeParse({ method: message.method, params: message.params });
      if (!r.success) this.fail(`a server request that fails ServerRequestSchema: ${describeZod(r.error)}`, text);
      return;
    }
    if ('method' in message) {
      this.notifications.push(message);
      const n = ServerNotificationSchema.safeParse({ method: message.method, params: message.params });
      if (!n.success) this.fail(`a notification that fails ServerNotificationSchema: ${describeZod(n.error)}`, text);
      if (n.success && message.method === 'notifications/progress') {
        const request = this.progressTokens.get(idKey(message.params.progressToken));
        if (!request) this.fail('progress for a token no request of ours gave', text);
        // A task-augmented request's token lives as long as its task (MCP 2025-11-25).
        else if (this.answered.has(request) && !this.sent.get(request).params.task) {
          this.fail('progress after the response to its request', text);
        }
      }
      return;
    }
    // A response.
    const key = idKey(message.id);
    const request = this.sent.get(key);
    if (!request) {
      this.fail(`a response to id ${JSON.stringify(message.id)}, which no request of ours had`, text);
      return;
    }
    if (this.answered.has(key)) {
      this.fail(`a second response to id ${JSON.stringify(message.id)} (${request.method})`, text);
      return;
    }
    this.answered.add(key);
    if ('error' in message) return;  // the error shape is checked by JSONRPCMessageSchema
    this.#checkResult(request, message.result, text);
  }

  #checkResult(request, result, text) {
    const { method, params } = request;
    let schema = RESULT_SCHEMAS[method];
    let tool = null;
    if (method === 'tools/call') {
      schema = params.task ? CreateTaskResultSchema : CallToolResultSchema;
      tool = params.name;
    } else if (method === 'tasks/result') {
      tool = this.taskTools.get(params.taskId) ?? null;
      schema = tool ? CallToolResultSchema : GetTaskPayloadResultSchema;
    }
    if (!schema) {
      this.fail(`a result of ${method}, for which the test knows no schema`, text);
      return;
    }
    const r = schema.safeParse(result);
    if (!r.success) {
      this.fail(`the result of ${method} fails the SDK's schema: ${describeZod(r.error)}`, text);
      return;
    }
    if (method === 'initialize') this.initializeResult = result;
    if (method === 'tools/list') {
      for (const t of result.tools) {
        if (t.outputSchema) this.outputValidators.set(t.name, this.validator.getValidator(t.outputSchema));
      }
    }
    if (method === 'tools/call' && params.task) {
      this.taskTools.set(result.task.taskId, params.name);
      return;
    }
    if (tool) this.#checkStructured(tool, result, method, text);
  }

  #checkStructured(tool, result, method, text) {
    const validate = this.outputValidators.get(tool);
    if (!validate) return;  // tools/list not seen (yet)
    if (result.isError) return;
    if (result.structuredContent === undefined) {
      this.fail(`${method} of ${tool}: no structuredContent although the tool has an outputSchema`, text);
      return;
    }
    const v = validate(result.structuredContent);
    if (!v.valid) this.fail(`${method} of ${tool}: structuredContent fails the tool's outputSchema: ${v.errorMessage}`, text);
  }

  report() {
    return `${this.label}: ${this.received} messages received, ${this.failures.length} failed validation` +
           (this.failures.length ? `:\n  ${this.failures.join('\n  ')}` : '');
  }
}

// Splits server-sent events out of a byte stream and hands each event's data to `onData`.
async function readSse(stream, onData) {
  const decoder = new TextDecoder();
  let buffer = '';
  let data = [];
  const line = (l) => {
    if (l === '') {
      if (data.length) onData(data.join('\n'));
      data = [];
    } else if (l.startsWith('data:')) {
      data.push(l.slice(l.startsWith('data: ') ? 6 : 5));
    }
  };
  try {
    for await (const chunk of stream) {
      buffer += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const eol = buffer.startsWith('\r\n', i) ? 2 : 1;
        line(buffer.slice(0, i));
        buffer = buffer.slice(i + eol);
      }
    }
  } catch {
    // Aborted (the client closed the stream) or reset: what arrived was checked.
  }
  if (data.length) onData(data.join('\n'));
}

// A `fetch` for StreamableHTTPClientTransport that shows the audit every message of every
// response (JSON bodies and event streams) before the SDK sees it.
export function auditingFetch(audit) {
  return async (url, init) => {
    const response = await fetch(url, init);
    const type = response.headers.get('content-type') ?? '';
    if (!response.body) return response;
    const rebuild = (body) => new Response(body, {
      status: response.status, statusText: response.statusText, headers: response.headers });
    if (type.includes('text/event-stream')) {
      const [mine, theirs] = response.body.tee();
      readSse(mine, (data) => audit.raw(data));
      return rebuild(theirs);
    }
    if (type.includes('application/json')) {
      const text = await response.text();
      if (text.trim()) audit.raw(text);
      return rebuild(text);
    }
    return response;
  };
}

// Feeds every newline-delimited message of `stream` (a stdio server's stdout) to the audit.
// Leaves the stream's encoding alone: the SDK reads the same stream as Buffers.
export function auditLines(stream, audit) {
  const decoder = new StringDecoder('utf8');
  let buffer = '';
  stream.on('data', (chunk) => {
    buffer += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const l = buffer.slice(0, i).replace(/\r$/, '');
      buffer = buffer.slice(i + 1);
      if (l.trim()) audit.raw(l);
    }
  });
}

// Makes `transport` report what it sends and its errors to the audit. Call before connect().
export function auditTransport(transport, audit) {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    audit.onSend(message);
    return send(message, options);
  };
  return transport;
}
