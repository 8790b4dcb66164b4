// The daemon's REST API, same origin, authenticated by the dashboard's HttpOnly cookie.
// Every failure is an ApiError carrying the daemon's error object (docs/HTTP_API.md "Errors"),
// so the page can show its message and the field it is about.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || '';
    this.field = error?.field || '';
  }

  // "prompt: expected a non-empty string, got number (field: prompt)"
  describe() {
    const where = this.field && !this.message.startsWith(`${this.field}:`) ? ` (field: ${this.field})` : '';
    return `${this.message}${where}`;
  }
}

let onUnauthorized = () => {};

// Called once with what the page does when the daemon answers 401 (the login is gone).
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { code: 'network', message: `the daemon did not answer (${e.message})` });
  }
  if (response.status === 401) onUnauthorized();
  if (response.status === 204) return null;
  let json = null;
  const text = await response.text();
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      if (response.ok) throw new ApiError(response.status, { message: 'the answer is not JSON' });
    }
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error ?? { message: `HTTP ${response.status} ${text.slice(0, 200)}` });
  }
  return json;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});

// Builds "/v1/tasks?status=active&limit=100" from an object, leaving out empty values.
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
