// coordinated's dashboard script. Pages work without it; with it, the
// parts of a page marked `data-live` are fetched again every two seconds
// (while the tab is visible) and swapped in place, and a checkbox selects
// every unit of a table.
"use strict";

(function () {
  const PERIOD_MS = 2000;
  const status = document.getElementById("live-status");

  async function refresh() {
    if (document.visibilityState !== "visible") return;
    const live = document.querySelectorAll("[data-live][id]");
    if (live.length === 0) return;
    try {
      const response = await fetch(window.location.href, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) {
        if (status) status.textContent = "Live updates paused: the server answered " + response.status + ".";
        return;
      }
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const region of live) {
        const replacement = fresh.getElementById(region.id);
        if (replacement && !region.contains(document.activeElement)) {
          region.replaceWith(document.importNode(replacement, true));
        }
      }
      if (status) status.textContent = "Live: updated " + new Date().toLocaleTimeString() + ".";
    } catch (error) {
      if (status) status.textContent = "Live updates paused: " + error.message;
    }
  }

  window.setInterval(refresh, PERIOD_MS);

  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      for (const box of document.querySelectorAll('#units-form input[name="unit"]')) {
        box.checked = selectAll.checked;
      }
    });
  }
})();
