// The daemon's event stream (GET /v1/events, server-sent events). Opened right after a snapshot
// at the snapshot's last_event_id, so nothing is missed or seen twice; EventSource reconnects by
// itself with Last-Event-ID, and every stored event is applied once (ids only grow, so one at or
// below the last applied is a duplicate and is dropped). When the stream closes for good (the
// daemon went away), it is opened again with backoff from the last applied id; after any
// reconnection the active tasks are re-read, and a log that went backwards (another data
// directory) reloads everything.

export class EventFeed {
  // hooks: onState(ev), onProgress(p), onStatus('live'|'reconnecting'|'offline'),
  // onReconnected(lastId) (async; re-reads what may have been missed by progress),
  // onGone() (the stream failed: check whether the login is still good).
  constructor(hooks) {
    this.hooks = hooks;
    this.lastId = 0;
    this.es = null;
    this.retries = 0;
    this.timer = null;
    this.everOpen = false;
    this.broken = false;
    this.duplicates = 0;
    this.applied = 0;
  }

  start(afterId) {
    this.lastId = Math.max(this.lastId, afterId || 0);
    this.#open();
  }

  stop() {
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
  }

  #open() {
    if (this.es) this.es.close();
    const es = new EventSource(`/v1/events?after=${this.lastId}`);
    this.es = es;
    es.addEventListener('open', () => {
      this.retries = 0;
      this.hooks.onStatus('live');
      if (this.everOpen && this.broken) this.hooks.onReconnected(this.lastId);
      this.everOpen = true;
      this.broken = false;
    });
    es.addEventListener('task.state', (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch { return; }
      const id = Number(e.lastEventId || ev.id || 0);
      if (id && id <= this.lastId) {
        this.duplicates++;
        return;
      }
      if (id) this.lastId = id;
      ev.id = id;
      this.applied++;
      this.hooks.onState(ev);
    });
    es.addEventListener('task.progress', (e) => {
      try { this.hooks.onProgress(JSON.parse(e.data)); } catch { /* a malformed event is skipped */ }
    });
    es.addEventListener('error', () => {
      if (es !== this.es) return;
      this.broken = true;
      if (es.readyState === EventSource.CLOSED) {
        // EventSource gave up (an HTTP error, e.g. 401, or the daemon refused): we retry ourselves
        this.hooks.onStatus('offline');
        this.hooks.onGone();
        const delay = Math.min(10_000, 500 * 2 ** this.retries++);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.#open(), delay);
      } else {
        this.hooks.onStatus('reconnecting');
      }
    });
  }
}
