// Translations: the server embeds English overlaid with the room's language; missing keys stay English.

let strings = {};

export function setStrings(values) {
  strings = values || {};
}

export function t(key, vars = {}) {
  let text = strings[key];
  if (text === undefined) text = key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}
