// Entities of every entity function the app declares, with their state.
import { api } from "./api.js";
import { formatTime, h, jsonBlock, replace } from "./dom.js";

export async function renderEntities(view, info) {
  const lists = await Promise.all(info.entities.map((name) => api.entities(name)));
  const rows = lists.flat();
  replace(view, h("h1", {}, "Entities"),
    info.entities.length === 0 ? h("p", { class: "muted" }, "The app declares no entity functions.") :
      rows.length === 0 ? h("p", { class: "muted", id: "empty" }, `No entities yet (${info.entities.join(", ")}).`) :
        h("table", { id: "entities" },
          h("thead", {}, h("tr", {}, ["Entity", "Key", "Last operation", "State"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows.map((row) => h("tr", { "data-entity": `@${row.entityId.name}@${row.entityId.key}` },
            h("td", {}, row.entityId.name), h("td", {}, row.entityId.key),
            h("td", {}, formatTime(row.lastOperationTime)), h("td", {}, jsonBlock(row.state)))))));
}
