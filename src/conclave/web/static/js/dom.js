// Tiny DOM helpers and the icon set (inline SVG: the page loads nothing from elsewhere).

const ICONS = {
  mic: '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>',
  micOff: '<path d="m3 3 18 18"/><path d="M9 9v2a3 3 0 0 0 5.1 2.1M15 10V6a3 3 0 0 0-5.7-1.3"/>' +
    '<path d="M19 11a7 7 0 0 1-1.2 3.9M5 11a7 7 0 0 0 10.6 6M12 18v3"/>',
  cam: '<rect x="3" y="6" width="13" height="12" rx="2.5"/><path d="m16 10 5-3v10l-5-3"/>',
  camOff: '<path d="m3 3 18 18"/><path d="M16 16v0a2 2 0 0 1-2 2H5.5A2.5 2.5 0 0 1 3 15.5v-7A2.5 2.5 0 0 1 5.5 6H6"/>' +
    '<path d="M10 6h3.5A2.5 2.5 0 0 1 16 8.5V11l5-3v9"/>',
  screen: '<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8M12 16v4"/><path d="m9 10 3-3 3 3M12 7v6"/>',
  leave: '<path d="M4 14.5c4.5-4.7 11.5-4.7 16 0l-2.2 2.3-3-1.4v-2.3a9 9 0 0 0-5.6 0v2.3l-3 1.4Z"/>',
  users: '<circle cx="9" cy="8" r="3.5"/><path d="M3 20a6 6 0 0 1 12 0"/><circle cx="17" cy="9" r="2.5"/>' +
    '<path d="M16 14.5a5 5 0 0 1 5 5"/>',
  chat: '<path d="M4 5h16v11H9l-5 4Z"/>',
  hand: '<path d="M8 13V6a1.5 1.5 0 0 1 3 0v5M11 11V4.5a1.5 1.5 0 0 1 3 0V11M14 11V6a1.5 1.5 0 0 1 3 0v7"/>' +
    '<path d="M8 13v-2a1.5 1.5 0 0 0-3 0v3a7 7 0 0 0 7 7h1a5 5 0 0 0 5-5v-3"/>',
  smile: '<circle cx="12" cy="12" r="9"/><path d="M8.5 14a4 4 0 0 0 7 0M9 9.5h.01M15 9.5h.01"/>',
  lock: '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
  unlock: '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 7.5-2"/>',
  close: '<path d="M6 6l12 12M18 6 6 18"/>',
  send: '<path d="m4 12 16-8-6 16-2-7Z"/>',
  more: '<circle cx="5" cy="12" r="1.2"/><circle cx="12" cy="12" r="1.2"/><circle cx="19" cy="12" r="1.2"/>',
  record: '<circle cx="12" cy="12" r="5" fill="currentColor"/>',
  remove: '<circle cx="10" cy="8" r="3.5"/><path d="M4 20a6 6 0 0 1 12 0M16 11h6"/>',
  check: '<path d="m5 12 5 5 9-10"/>',
  end: '<path d="M4 14.5c4.5-4.7 11.5-4.7 16 0l-2.2 2.3-3-1.4v-2.3a9 9 0 0 0-5.6 0v2.3l-3 1.4Z"/><path d="M12 3v4"/>',
  alert: '<path d="M12 3 2 20h20Z"/><path d="M12 10v4M12 17h.01"/>',
  clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
  door: '<path d="M14 3H6v18h8"/><path d="M10 12h11"/><path d="m18 9 3 3-3 3"/>',
  cc: '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M10 10.5a2 2 0 1 0 0 3M16.5 10.5a2 2 0 1 0 0 3"/>',
  volume: '<path d="M4 9h4l5-4v14l-5-4H4Z"/><path d="M16.5 8.5a5 5 0 0 1 0 7"/>',
  up: '<path d="M12 19V5M6 11l6-6 6 6"/>',
  qa: '<path d="M4 5h16v11H9l-5 4Z"/><path d="M10 9a2 2 0 1 1 2.5 1.9c-.3.1-.5.4-.5.7v.4M12 14h.01"/>',
  poll: '<path d="M5 20V10M12 20V4M19 20v-7"/>',
  quiz: '<circle cx="12" cy="12" r="9"/><path d="M9.5 9.5a2.5 2.5 0 1 1 3.2 2.4c-.4.1-.7.5-.7.9v.7M12 16.5h.01"/>',
  logo: '<rect x="2.5" y="5" width="13" height="14" rx="3.5"/><path d="m15.5 10 6-3.5v11l-6-3.5"/>',
};

export function icon(name, extraClass = '') {
  const span = document.createElement('span');
  span.className = `icon ${extraClass}`.trim();
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" ` +
    `stroke-linecap="round" stroke-linejoin="round">${ICONS[name] || ''}</svg>`;
  return span;
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== 'string' && key !== 'list') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
  return letters.toUpperCase();
}

// A stable, calm hue per participant for avatars.
export function hueFor(id) {
  let hash = 0;
  for (const ch of String(id)) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 360;
}
