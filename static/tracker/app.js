// The only script the app ships besides htmx: a "select all" box for bulk actions.
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
