// The history as bars on a time axis: activities and sub-orchestrations from scheduled to
// completed, timers from created to fired, events and lifecycle changes as points.
import { formatDuration, h, parseTime, s } from "./dom.js";

const WIDTH = 960, LABEL = 230, ROW = 22, TOP = 30, MIN_BAR = 3;
const KINDS = { activity: "Activity", sub: "Sub-orchestration", timer: "Timer", event: "Event",
                lifecycle: "Orchestration" };

// historyEvents (as the status API returns them) -> [{kind, label, start, end, open, failed}]
export function spans(events, status) {
  const out = [];
  const end = parseTime(status.lastUpdatedTime.replace("Z", ".999Z"));
  const active = ["Pending", "Running", "Suspended", "ContinuedAsNew"].includes(status.runtimeStatus);
  const fired = new Map();  // FireAt -> [TimerFired timestamps], matched to TimerCreated in order
  for (const e of events) {
    if (e.EventType === "TimerFired") fired.set(e.FireAt, [...(fired.get(e.FireAt) || []), parseTime(e.Timestamp)]);
  }
  for (const e of events) {
    const at = parseTime(e.Timestamp);
    switch (e.EventType) {
      case "TaskCompleted": case "TaskFailed":
        out.push({ kind: "activity", label: e.FunctionName, start: parseTime(e.ScheduledTime), end: at,
                   failed: e.EventType === "TaskFailed", detail: e.Reason });
        break;
      case "TaskScheduled":
        out.push({ kind: "activity", label: e.Name, start: at, end: Math.max(end, at), open: active });
        break;
      case "SubOrchestrationInstanceCompleted": case "SubOrchestrationInstanceFailed":
        out.push({ kind: "sub", label: e.FunctionName, start: parseTime(e.ScheduledTime), end: at,
                   failed: e.EventType === "SubOrchestrationInstanceFailed", detail: e.Reason });
        break;
      case "SubOrchestrationInstanceCreated":
        out.push({ kind: "sub", label: `${e.Name} (${e.InstanceId})`, start: at, end: Math.max(end, at), open: active });
        break;
      case "TimerCreated": {
        const queue = fired.get(e.FireAt) || [];
        const firedAt = queue.shift();
        // an unfired timer is drawn up to now (a 72 h timeout would squash the rest of the axis)
        const label = `timer until ${e.FireAt.slice(11, 19)}${firedAt === undefined && !active ? " (not fired)" : ""}`;
        out.push({ kind: "timer", label, start: at, end: firedAt ?? Math.max(end, at),
                   open: firedAt === undefined && active });
        break;
      }
      case "EventRaised": case "EventSent":
        out.push({ kind: "event", label: `${e.EventType === "EventSent" ? "sent" : "raised"} ${e.Name}`, start: at, end: at });
        break;
      case "ExecutionStarted": case "ExecutionCompleted": case "ExecutionTerminated":
      case "ExecutionSuspended": case "ExecutionResumed": case "ContinueAsNew":
        out.push({ kind: "lifecycle", label: e.EventType.replace("Execution", "").toLowerCase(), start: at, end: at,
                   failed: e.OrchestrationStatus === "Failed" });
        break;
      default:
        break;
    }
  }
  return out.filter((span) => Number.isFinite(span.start)).sort((a, b) => a.start - b.start);
}

function niceStep(range) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 1.8e6, 3.6e6,
                 7.2e6, 2.16e7, 4.32e7, 8.64e7, 1.728e8, 6.048e8];
  return steps.find((step) => range / step <= 8) || range / 8;
}

export function timeline(events, status) {
  const rows = spans(events, status);
  if (rows.length === 0) return h("p", { class: "muted" }, "No history yet.");
  const t0 = Math.min(...rows.map((r) => r.start));
  const t1 = Math.max(...rows.map((r) => r.end), t0 + 1);
  const plot = WIDTH - LABEL - 20;
  const x = (t) => LABEL + ((t - t0) / (t1 - t0)) * plot;
  const height = TOP + rows.length * ROW + 10;
  const step = niceStep(t1 - t0);
  const ticks = [];
  for (let t = 0; t <= t1 - t0; t += step) {
    ticks.push(s("g", { class: "tick" },
      s("line", { x1: x(t0 + t), x2: x(t0 + t), y1: TOP - 6, y2: height - 10 }),
      s("text", { x: x(t0 + t), y: TOP - 10, "text-anchor": "middle" }, `+${formatDuration(t)}`)));
  }
  const bars = rows.map((r, i) => {
    const y = TOP + i * ROW;
    const cls = `span ${r.kind}${r.failed ? " failed" : ""}${r.open ? " open" : ""}`;
    const tip = `${KINDS[r.kind]}: ${r.label}\n${new Date(r.start).toISOString()}` +
      (r.end > r.start ? ` → ${new Date(r.end).toISOString()} (${formatDuration(r.end - r.start)}` +
        `${r.open ? ", still open" : ""})` : "") + (r.detail ? `\n${r.detail}` : "");
    const mark = r.end > r.start || r.kind === "activity" || r.kind === "sub" || r.kind === "timer"
      ? s("rect", { x: x(r.start), y: y + 4, width: Math.max(MIN_BAR, x(r.end) - x(r.start)), height: ROW - 8, rx: 3 })
      : s("path", { d: `M${x(r.start)} ${y + 3} l7 8 l-7 8 l-7 -8 z` });
    return s("g", { class: cls, "data-kind": r.kind },
      s("title", {}, tip),
      s("text", { x: LABEL - 8, y: y + ROW / 2 + 4, "text-anchor": "end", class: "label" },
        r.label.length > 32 ? `${r.label.slice(0, 31)}…` : r.label),
      mark);
  });
  const legend = h("div", { class: "legend" }, Object.entries(KINDS).map(([kind, name]) =>
    h("span", { class: `key ${kind}` }, name)), h("span", { class: "key failed" }, "Failed"),
    h("span", { class: "key open" }, "Open"));
  const svg = s("svg", { id: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height,
                         role: "img", "aria-label": "history timeline" }, ticks, bars);
  return h("div", { class: "timeline" }, legend, svg);
}
