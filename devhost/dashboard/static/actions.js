// Instance actions, each behind a confirmation dialog that names the instance and what will happen.
import { api } from "./api.js";
import { h } from "./dom.js";
import { showError, showNotice } from "./messages.js";

const ACTIVE = new Set(["Pending", "Running", "Suspended", "ContinuedAsNew"]);

function field(label, input) {
  return h("label", { class: "field" }, label, input);
}

// Resolves with the form's values, or null when cancelled.
function confirmDialog(title, text, fields, confirmLabel, danger) {
  return new Promise((resolve) => {
    const form = h("form", { method: "dialog" },
      h("h2", {}, title), h("p", {}, text), fields,
      h("menu", {},
        h("button", { type: "button", value: "cancel", class: "secondary", id: "dialog-cancel" }, "Cancel"),
        h("button", { type: "submit", value: "ok", id: "dialog-confirm", class: danger ? "danger" : "" },
          confirmLabel)));
    const dialog = h("dialog", { id: "confirm-dialog" }, form);
    form.querySelector("#dialog-cancel").addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      const values = Object.fromEntries(new FormData(form));
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? values : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

const reasonField = () => field("Reason (optional)", h("input", { name: "reason", type: "text", size: 40 }));

function definitions(id, status) {
  const active = ACTIVE.has(status);
  return [
    { name: "raise-event", label: "Raise event", enabled: active,
      fields: () => [field("Event name", h("input", { name: "eventName", required: true, size: 30 })),
                     field("Data (JSON)", h("textarea", { name: "data", rows: 4, cols: 40 }, "null"))],
      text: `Send an external event to ${id}.`,
      run: async (v) => {
        JSON.parse(v.data || "null");  // refuse invalid JSON here, with the parser's message
        await api.raiseEvent(id, v.eventName, v.data || "null");
        return `Event '${v.eventName}' raised (202 Accepted).`;
      } },
    { name: "terminate", label: "Terminate", enabled: active, danger: true, fields: reasonField,
      text: `Terminate ${id}? It stops at its next step and cannot be resumed.`,
      run: async (v) => { await api.terminate(id, v.reason); return "Termination requested (202 Accepted)."; } },
    { name: "suspend", label: "Suspend", enabled: active && status !== "Suspended", fields: reasonField,
      text: `Suspend ${id}? It keeps its state and does nothing until resumed.`,
      run: async (v) => { await api.suspend(id, v.reason); return "Suspension requested (202 Accepted)."; } },
    { name: "resume", label: "Resume", enabled: status === "Suspended", fields: reasonField,
      text: `Resume ${id}?`,
      run: async (v) => { await api.resume(id, v.reason); return "Resume requested (202 Accepted)."; } },
    { name: "restart", label: "Restart", enabled: true,
      fields: () => [h("label", { class: "check" }, h("input", { type: "checkbox", name: "newId", checked: true }),
                       "with a new instance id")],
      text: `Start ${id}'s orchestrator again with the same input?`,
      run: async (v) => {
        const started = await api.restart(id, v.newId === "on");
        return { text: `Restarted as ${started.id}.`, go: started.id };
      } },
    { name: "purge", label: "Purge", enabled: true, danger: true, fields: () => [],
      text: `Delete ${id} and its whole history from the store? This cannot be undone.`,
      run: async () => { await api.purge(id); return { text: `Purged ${id}.`, go: "" }; } },
  ];
}

// Buttons for one instance; after an action, `done(nextInstanceId | "" for the list | undefined)`.
export function actionBar(id, status, done) {
  return h("div", { class: "actions", id: "actions" }, definitions(id, status).map((action) =>
    h("button", {
      type: "button", id: `action-${action.name}`, class: action.danger ? "danger" : "",
      disabled: !action.enabled, title: action.enabled ? "" : `Not possible while ${status}`,
      onclick: async () => {
        const values = await confirmDialog(action.label, action.text, action.fields(), action.label, action.danger);
        if (values === null) return;
        try {
          const result = await action.run(values);
          const text = typeof result === "string" ? result : result.text;
          await done(typeof result === "string" ? undefined : result.go);
          showNotice(text);
        } catch (error) {
          showError(error instanceof SyntaxError ? new Error(`Event data is not valid JSON: ${error.message}`) : error);
        }
      },
    }, action.label)));
}
