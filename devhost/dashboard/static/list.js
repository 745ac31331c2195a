// The instance list: filters (status, name, created time, id prefix), paging by continuation token.
import { api } from "./api.js";
import { formatTime, h, replace, statusBadge } from "./dom.js";
import { guard } from "./messages.js";

const STATUSES = ["Pending", "Running", "Suspended", "Completed", "Failed", "Terminated", "ContinuedAsNew",
                  "Canceled"];
// Kept while the tab lives, so coming back from an instance shows the same filters and page.
const state = { filters: { statuses: [], name: "", createdFrom: "", createdTo: "", prefix: "", top: 20 },
                tokens: [null], page: 0 };

function isoOrEmpty(localValue) {
  return localValue ? new Date(localValue).toISOString() : "";
}

// The extension's list API has no name filter: with one, pages are read until a page is full.
async function loadPage(filters, token) {
  const query = { ...filters, createdFrom: isoOrEmpty(filters.createdFrom),
                  createdTo: isoOrEmpty(filters.createdTo) };
  const rows = [];
  let next = token;
  do {
    const page = await api.listInstances(query, next);
    rows.push(...page.rows.filter((row) => !filters.name || row.name.toLowerCase() === filters.name.toLowerCase()));
    next = page.token;
  } while (filters.name && rows.length < filters.top && next);
  return { rows, next };
}

function filterForm(info, onApply) {
  const f = state.filters;
  const boxes = STATUSES.map((status) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "status", value: status, checked: f.statuses.includes(status) }), status));
  const names = h("select", { name: "name", id: "filter-name" }, h("option", { value: "" }, "any name"),
    info.orchestrators.map((name) => h("option", { value: name, selected: name === f.name }, name)));
  const form = h("form", { id: "filters", class: "card filters" },
    h("fieldset", {}, h("legend", {}, "Status"), boxes),
    h("label", {}, "Orchestrator ", names),
    h("label", {}, "Created from ", h("input", { type: "datetime-local", name: "createdFrom", value: f.createdFrom })),
    h("label", {}, "to ", h("input", { type: "datetime-local", name: "createdTo", value: f.createdTo })),
    h("label", {}, "Id prefix ", h("input", { type: "text", name: "prefix", value: f.prefix, size: 16 })),
    h("label", {}, "Page size ", h("input", { type: "number", name: "top", min: 1, max: 1000, value: f.top })),
    h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    state.filters = { statuses: data.getAll("status"), name: data.get("name"), createdFrom: data.get("createdFrom"),
                      createdTo: data.get("createdTo"), prefix: data.get("prefix").trim(),
                      top: Math.max(1, Number(data.get("top")) || 20) };
    state.tokens = [null];
    state.page = 0;
    guard(onApply)();
  });
  return form;
}

function table(rows) {
  if (rows.length === 0) return h("p", { class: "muted", id: "empty" }, "No instances match these filters.");
  return h("table", { id: "instances" },
    h("thead", {}, h("tr", {}, ["Instance", "Name", "Status", "Created", "Last updated"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((row) => h("tr", { "data-instance-id": row.instanceId },
      h("td", {}, h("a", { href: `#/instances/${encodeURIComponent(row.instanceId)}` }, row.instanceId)),
      h("td", {}, row.name), h("td", {}, statusBadge(row.runtimeStatus)),
      h("td", {}, formatTime(row.createdTime)), h("td", {}, formatTime(row.lastUpdatedTime))))));
}

export async function renderList(view, info) {
  const results = h("div", { id: "results" }, h("p", { class: "muted" }, "Loading…"));
  const show = async () => {
    const { rows, next } = await loadPage(state.filters, state.tokens[state.page]);
    state.tokens[state.page + 1] = next;
    const pager = h("div", { class: "pager" },
      h("button", { type: "button", id: "prev-page", disabled: state.page === 0,
                    onclick: guard(() => { state.page -= 1; return show(); }) }, "‹ Previous"),
      h("span", { class: "muted" }, ` page ${state.page + 1} `),
      h("button", { type: "button", id: "next-page", disabled: !next,
                    onclick: guard(() => { state.page += 1; return show(); }) }, "Next ›"),
      h("button", { type: "button", id: "refresh", onclick: guard(show) }, "Refresh"));
    replace(results, table(rows), pager);
  };
  replace(view, h("h1", {}, "Orchestration instances"), filterForm(info, show), results);
  await show();
}
