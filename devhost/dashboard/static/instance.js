// One instance: summary, actions, timeline, input / output / custom status / failure, history.
import { api } from "./api.js";
import { actionBar } from "./actions.js";
import { formatDuration, formatTime, h, jsonBlock, parseTime, replace, statusBadge, valueBlock } from "./dom.js";
import { showError } from "./messages.js";
import { timeline } from "./timeline.js";

const ACTIVE = new Set(["Pending", "Running", "Suspended", "ContinuedAsNew"]);
const REFRESH_MS = 2000;
let poll = null;  // the auto-refresh of the instance on screen, while it is active

function section(title, id, ...content) {
  return h("section", { class: "card", id }, h("h2", {}, title), content);
}

// The instance's own failure is its output; failed activities and sub-orchestrations (caught or not)
// are listed with their reason and details.
function failure(status) {
  const failed = (status.historyEvents || []).filter((e) => e.EventType === "TaskFailed" ||
    e.EventType === "SubOrchestrationInstanceFailed");
  if (status.runtimeStatus !== "Failed" && failed.length === 0) return null;
  return section("Failure details", "failure",
    status.runtimeStatus === "Failed" ? valueBlock(status.output) : null,
    failed.map((e) => h("div", { class: "failure" },
      h("h3", {}, `${e.EventType}: ${e.FunctionName || ""} at ${formatTime(e.Timestamp)}`),
      e.Reason ? h("p", {}, e.Reason) : null,
      e.Details ? h("pre", { class: "json" }, e.Details) : null,
      e.FailureDetails ? jsonBlock(e.FailureDetails) : null)));
}

function historyTable(events) {
  return h("table", { id: "history" },
    h("thead", {}, h("tr", {}, ["Event", "Name", "Time", "Duration", "Details"].map((t) => h("th", {}, t)))),
    h("tbody", {}, events.map((e) => {
      const duration = e.ScheduledTime ? parseTime(e.Timestamp) - parseTime(e.ScheduledTime) : NaN;
      const extra = Object.fromEntries(Object.entries(e).filter(([k]) =>
        !["EventType", "Timestamp", "FunctionName", "Name", "ScheduledTime"].includes(k)));
      return h("tr", {},
        h("td", {}, e.EventType), h("td", {}, e.FunctionName || e.Name || ""), h("td", {}, formatTime(e.Timestamp)),
        h("td", {}, formatDuration(duration)),
        h("td", {}, Object.keys(extra).length ? h("details", {}, h("summary", {}, "show"), jsonBlock(extra)) : ""));
    })));
}

function render(view, status, reload) {
  const id = status.instanceId;
  replace(view,
    h("p", {}, h("a", { href: "#/" }, "‹ All instances")),
    h("h1", { id: "instance-title" }, id),
    h("dl", { class: "summary" },
      h("dt", {}, "Name"), h("dd", {}, status.name),
      h("dt", {}, "Status"), h("dd", { id: "instance-status" }, statusBadge(status.runtimeStatus)),
      h("dt", {}, "Created"), h("dd", {}, formatTime(status.createdTime)),
      h("dt", {}, "Last updated"), h("dd", {}, formatTime(status.lastUpdatedTime))),
    actionBar(id, status.runtimeStatus, async (next) => {
      if (next === undefined) await reload();
      else location.hash = next ? `#/instances/${encodeURIComponent(next)}` : "#/";
    }),
    section("Timeline", "timeline-section", timeline(status.historyEvents || [], status)),
    h("div", { class: "grid" },
      section("Input", "input", valueBlock(status.input)),
      section("Output", "output", valueBlock(status.output)),
      section("Custom status", "custom-status", valueBlock(status.customStatus))),
    failure(status),
    section("History", "history-section", historyTable(status.historyEvents || [])));
}

export async function renderInstance(view, id) {
  clearInterval(poll);
  const hash = `#/instances/${encodeURIComponent(id)}`;
  let shown = "";
  let active = true;
  const reload = async () => {
    const status = await api.instance(id);
    const version = `${status.runtimeStatus}|${status.lastUpdatedTime}|${status.historyEvents?.length}`;
    if (version !== shown) {
      shown = version;
      render(view, status, reload);
    }
    active = ACTIVE.has(status.runtimeStatus);
  };
  await reload();
  const timer = setInterval(async () => {
    if (location.hash !== hash) return clearInterval(timer);
    if (!active || document.querySelector("dialog[open]")) return;  // actions call reload themselves
    try { await reload(); } catch (error) { clearInterval(timer); showError(error); }
  }, REFRESH_MS);
  poll = timer;
}
