// Router (hash routes, so ids never reach a server log), the key gate and the page-wide messages.
import { ApiError, api, key } from "./api.js";
import { h, replace } from "./dom.js";
import { renderEntities } from "./entities.js";
import { renderInstance } from "./instance.js";
import { renderList } from "./list.js";
import { clearMessages, onUnauthorized, showError } from "./messages.js";

const view = document.getElementById("view");
let info = null;  // the app's names, once a key was accepted

function renderKeyForm() {
  info = null;
  const input = h("input", { type: "password", id: "key-input", name: "key", autocomplete: "off",
                             placeholder: "master key", required: true, size: 48 });
  const form = h("form", { id: "key-form", class: "card" },
    h("h2", {}, "Master key"),
    h("p", { class: "muted" }, "The dashboard calls the host's management API with the master key " +
      "(printed by python -m devhost at start). It is kept in this tab's session storage only."),
    h("label", {}, "Key ", input), " ", h("button", { type: "submit" }, "Open dashboard"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    key.set(input.value.trim());
    clearMessages();
    await route();
  });
  replace(view, form);
  input.focus();
}

async function route() {
  try {
    if (info === null) info = await api.appInfo();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && !key.get()) renderKeyForm();
    else showError(error);
    return;
  }
  document.getElementById("hub").textContent = `task hub: ${info.taskHub}`;
  document.getElementById("forget-key").hidden = !key.get();
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/instances/")) {
      await renderInstance(view, decodeURIComponent(hash.slice("#/instances/".length)));
    } else if (hash === "#/entities") {
      await renderEntities(view, info);
    } else {
      await renderList(view, info);
    }
  } catch (error) {
    showError(error);
  }
}

document.getElementById("forget-key").addEventListener("click", () => {
  key.forget();
  clearMessages();
  renderKeyForm();
});
onUnauthorized(() => renderKeyForm());
window.addEventListener("hashchange", () => {
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();  // a dialog belongs to its page
  clearMessages();
  route();
});
route();
