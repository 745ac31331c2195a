// The keyed management API, called with the key in the x-functions-key header (never a cookie,
// never the URL). The key lives in sessionStorage: gone when the tab closes.
export const WEBHOOK = "/runtime/webhooks/durabletask";
const KEY_NAME = "devhost.dashboard.key";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const key = {
  get: () => sessionStorage.getItem(KEY_NAME) || "",
  set: (value) => sessionStorage.setItem(KEY_NAME, value),
  forget: () => sessionStorage.removeItem(KEY_NAME),
};

function describe(status, body) {
  if (status === 401) {
    return "The host refused the key (401 Unauthorized). The dashboard needs the master key that " +
      "`python -m devhost` prints at start (or DEVHOST_MASTER_KEY).";
  }
  const detail = body && typeof body === "object"
    ? [body.Message, body.ExceptionMessage, body.error].filter(Boolean).join(": ")
    : String(body || "").slice(0, 300);
  return `${status}: ${detail || "the host answered with an error"}`;
}

export async function call(method, path, { query = {}, body, json, headers: extra = {} } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    for (const item of [].concat(value)) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  const headers = { ...extra };
  if (key.get()) headers["x-functions-key"] = key.get();
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = json;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "omit", cache: "no-store" });
  } catch (error) {
    throw new ApiError(0, `The host did not answer (${error.message}). Is python -m devhost running?`);
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) throw new ApiError(response.status, describe(response.status, data));
  return { status: response.status, data, headers: response.headers };
}

const instance = (id) => `${WEBHOOK}/instances/${encodeURIComponent(id)}`;

export const api = {
  appInfo: async () => (await call("GET", "/_devhost/api/app")).data,
  async listInstances({ statuses, createdFrom, createdTo, prefix, top }, token) {
    const query = { runtimeStatus: statuses?.join(","), createdTimeFrom: createdFrom, createdTimeTo: createdTo,
                    instanceIdPrefix: prefix, top, showInput: "false" };  // (the list shows no inputs)
    // the continuation token travels in a request header, as the extension expects
    const headers = token ? { "x-ms-continuation-token": token } : {};
    const result = await call("GET", `${WEBHOOK}/instances`, { query, headers });
    const next = result.headers.get("x-ms-continuation-token");
    return { rows: result.data || [], token: next && next !== "null" ? next : null };
  },
  instance: async (id) => (await call("GET", instance(id), {
    query: { showHistory: "true", showHistoryOutput: "true", showInput: "true" } })).data,
  raiseEvent: (id, name, jsonText) =>
    call("POST", `${instance(id)}/raiseEvent/${encodeURIComponent(name)}`, { json: jsonText }),
  terminate: (id, reason) => call("POST", `${instance(id)}/terminate`, { query: { reason } }),
  suspend: (id, reason) => call("POST", `${instance(id)}/suspend`, { query: { reason } }),
  resume: (id, reason) => call("POST", `${instance(id)}/resume`, { query: { reason } }),
  restart: async (id, newId) => (await call("POST", `${instance(id)}/restart`,
    { query: { restartWithNewInstanceId: String(newId) } })).data,
  purge: (id) => call("DELETE", instance(id)),
  entities: async (name) => (await call("GET", `${WEBHOOK}/entities/${encodeURIComponent(name)}`,
    { query: { fetchState: "true" } })).data || [],
};

