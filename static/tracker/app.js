// The app's own script besides htmx, in sections: select all, saved views and filters that
// follow the URL, the bulk bar, confirmations. Progressive: every page works without it.
// Loaded from a file because the Content-Security-Policy forbids inline script.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  document
    .querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`)
    .forEach((item) => {
      item.checked = box.checked;
    });
});

// === Ledger filters follow the URL (saved views, daily work 4) ==========================
// The ledger filters follow the URL on Back and Forward. htmx restores a page from a snapshot
// of its HTML, where a select shows the option the server last marked, not the one chosen
// since; the rows are right, the controls would be stale. The URL is the truth: set every
// filter from it whenever a page comes back from history.
function syncFiltersToUrl() {
  const form = document.getElementById("filters");
  if (!form) return;
  const params = new URLSearchParams(window.location.search);
  for (const field of form.elements) {
    if (!field.name) continue;
    // Django reads the last of repeated parameters: so does this.
    const value = params.getAll(field.name).pop() ?? "";
    if (field instanceof HTMLSelectElement) {
      field.value = value;
      if (field.selectedIndex < 0) field.selectedIndex = 0; // unknown value: 全部, as the server ignores it
    } else if (field instanceof HTMLInputElement && !["checkbox", "radio", "submit", "button"].includes(field.type)) {
      field.value = value;
    }
  }
}
document.addEventListener("htmx:historyRestore", syncFiltersToUrl);
// A page kept whole by the browser (back-forward cache) is shown again without htmx.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) syncFiltersToUrl();
});
// History entries htmx did not make are not restored by it; htmx's own fire historyRestore.
window.addEventListener("popstate", (event) => {
  if (!(event.state && event.state.htmx)) syncFiltersToUrl();
});
// === end ledger filters follow the URL ==================================================

// === Bulk bar count and the inline-save flash (daily work 7) ============================
// The bulk bar says how many rows are ticked, so a supervisor sees what "批量修改" will touch
// while the ticked rows are scrolled out of view.
function countTicked() {
  const output = document.getElementById("bulk-count");
  if (!output) return;
  const n = document.querySelectorAll('input[type=checkbox][name="ids"]:checked').length;
  output.querySelector("b").textContent = String(n);
  output.hidden = false;
}
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && (box.name === "ids" || box.dataset.selectAll)) {
    countTicked();
  }
});
document.addEventListener("DOMContentLoaded", countTicked);
// The ledger is re-rendered by filters, paging and history: whatever came back is counted.
document.addEventListener("htmx:afterSettle", countTicked);

// A bulk run that succeeded is done with its selection: untick, so a second click of
// "批量修改" cannot repeat it on the same rows. Errors keep the ticks for a retry.
document.addEventListener("ledgerChanged", () => {
  document
    .querySelectorAll('input[type=checkbox][name="ids"], input[type=checkbox][data-select-all]')
    .forEach((box) => {
      box.checked = false;
    });
  countTicked();
});

// measureUpdated arrives before htmx swaps the saved row in; the new row is marked when it
// loads, so the person sees which row was saved.
let savedMeasure = null;
document.addEventListener("measureUpdated", (event) => {
  savedMeasure = event.detail && event.detail.id ? `measure-${event.detail.id}` : null;
});
document.addEventListener("htmx:load", (event) => {
  const row = event.detail.elt;
  if (!savedMeasure || !(row instanceof HTMLTableRowElement) || row.id !== savedMeasure) return;
  savedMeasure = null;
  row.classList.add("saved");
  const cell = row.querySelector("td.actions") || row.lastElementChild;
  const note = document.createElement("span");
  note.className = "saved-note";
  note.setAttribute("role", "status");
  note.textContent = "已保存";
  cell.append(note);
  setTimeout(() => {
    note.remove();
    row.classList.remove("saved");
  }, 2500);
});
// === end bulk bar count and inline-save flash ===========================================
