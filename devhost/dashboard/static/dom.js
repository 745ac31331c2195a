// DOM helpers. Values from the API (ids, names, inputs, outputs) only ever become text nodes or
// attribute values, never markup.
const SVG_NS = "http://www.w3.org/2000/svg";

function build(node, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function replace(node, ...children) {
  node.replaceChildren();
  return build(node, {}, children);
}

// History timestamps carry 7 fractional digits; Date wants at most 3.
export function parseTime(text) {
  return text ? Date.parse(String(text).replace(/(\.\d{3})\d+/, "$1")) : NaN;
}

export function formatTime(text) {
  const ms = parseTime(text);
  return Number.isNaN(ms) ? "" : new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC");
}

export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

export function jsonBlock(value) {
  const text = value === undefined ? "" : JSON.stringify(value, null, 2);
  return h("pre", { class: "json" }, text === undefined ? "undefined" : text);
}

// The Python client's start_new sends its input as JSON text inside a JSON string (the API shows
// it so): an object or array in such a string is shown decoded, and says so.
export function valueBlock(value) {
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      return h("div", {}, h("p", { class: "muted note" }, "a JSON string, shown decoded:"), jsonBlock(JSON.parse(value)));
    } catch { /* not JSON: shown as the string it is */ }
  }
  return jsonBlock(value);
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${String(status).toLowerCase()}` }, status);
}
