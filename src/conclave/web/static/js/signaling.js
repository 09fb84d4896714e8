// The realtime protocol's WebSocket (docs/realtime-protocol.md): requests with ids, events, keepalive.

const REQUEST_TIMEOUT_MS = 20000;
const PING_EVERY_MS = 10000;
const PONG_WITHIN_MS = 8000;

export class Signaling extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.closed = false;
    this.pingTimer = null;
    this.pongTimer = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let opened = false;
      ws.addEventListener('open', () => {
        opened = true;
        this.startKeepalive();
        resolve();
      });
      ws.addEventListener('message', (event) => this.onMessage(event.data));
      ws.addEventListener('close', (event) => {
        if (this.ws !== ws) return;
        if (!opened) reject(new Error(`connection failed (${event.code})`));
        this.finish(event.code, event.reason);
      });
    });
  }

  startKeepalive() {
    this.stopKeepalive();
    this.pingTimer = setInterval(() => {
      if (this.pongTimer) return;
      this.send({ type: 'ping' });
      this.pongTimer = setTimeout(() => this.drop(), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  stopKeepalive() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
  }

  /** Treat the connection as lost now (a dead network may take minutes to close a socket). */
  drop() {
    const ws = this.ws;
    if (!ws || this.closed) return;
    try { ws.close(4000, 'keepalive timeout'); } catch { /* already closing */ }
    this.finish(1006, 'connection lost');
  }

  finish(code, reason) {
    if (this.closed) return;
    this.closed = true;
    this.stopKeepalive();
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(Object.assign(new Error('connection closed'), { code: 'closed' }));
    }
    this.pending.clear();
    this.dispatchEvent(new CustomEvent('close', { detail: { code, reason } }));
  }

  onMessage(raw) {
    let message;
    try { message = JSON.parse(raw); } catch { return; }
    if (message.type === 'pong') {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
      return;
    }
    if (message.reply_to !== undefined && this.pending.has(message.reply_to)) {
      const { resolve, reject, timer } = this.pending.get(message.reply_to);
      this.pending.delete(message.reply_to);
      clearTimeout(timer);
      if (message.type === 'error') reject(Object.assign(new Error(message.message), { code: message.code }));
      else resolve(message);
      if (message.type === 'ok' || message.type === 'error') return;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: message }));
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.closed) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  request(message) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(Object.assign(new Error('no reply'), { code: 'timeout' }));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      if (!this.send({ ...message, id })) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(Object.assign(new Error('not connected'), { code: 'closed' }));
      }
    });
  }

  close(code = 1000, reason = '') {
    const ws = this.ws;
    this.closed = true;
    this.stopKeepalive();
    if (ws && ws.readyState <= WebSocket.OPEN) {
      try { ws.close(code, reason); } catch { /* ignore */ }
    }
  }
}
