/* Watchlist pages: symbol autocomplete, and reordering by drag or keyboard.
 *
 * Everything here is an enhancement: the forms work without JavaScript (the up/down
 * buttons post and reload). With it, moves happen in place and the new order is saved
 * with one POST of all item ids to the reorder URL.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* ---- Autocomplete from GET /instruments/search?q= ---- */
  function setupAutocomplete() {
    var input = document.querySelector("input[data-search-url]");
    var select = document.getElementById("id_asset_class");
    var list = document.getElementById("instrument-options");
    if (!input || !list) return;
    var timer = null;
    var results = [];
    var lastQuery = null;

    function render(rows) {
      results = rows;
      list.textContent = "";
      rows.forEach(function (row) {
        var option = document.createElement("option");
        option.value = row.symbol;
        option.label = row.asset_class + (row.display_name ? " · " + row.display_name : "");
        list.appendChild(option);
      });
    }

    function search() {
      var q = input.value.trim();
      if (q === lastQuery || q.length > 48) return;
      lastQuery = q;
      fetch(input.dataset.searchUrl + "?q=" + encodeURIComponent(q), {
        headers: { Accept: "application/json" }, credentials: "same-origin"
      }).then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) { if (q === lastQuery) render(rows); })
        .catch(function () { /* autocomplete is optional: typing still works */ });
    }

    function pickClass() {
      // A symbol chosen from the list that exists in one class only: preselect that class.
      var symbol = input.value.trim().toUpperCase();
      var matches = results.filter(function (row) { return row.symbol === symbol; });
      if (select && matches.length === 1) select.value = matches[0].asset_class;
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
      pickClass();
    });
    input.addEventListener("change", pickClass);
    input.addEventListener("focus", search, { once: true });
  }

  /* ---- Reorder: drag and drop, Alt+Up/Down, and in-place up/down buttons ---- */
  function setupReorder() {
    var table = document.getElementById("wl-items");
    if (!table) return;
    var body = table.tBodies[0];
    var errorBox = document.getElementById("reorder-error");
    var dragged = null;

    function rows() { return Array.prototype.slice.call(body.rows); }

    function refresh() {
      var all = rows();
      all.forEach(function (row, i) {
        row.querySelector(".pos").textContent = String(i + 1);
        var up = row.querySelector("button[value=up]");
        var down = row.querySelector("button[value=down]");
        if (up) up.disabled = i === 0;
        if (down) down.disabled = i === all.length - 1;
      });
    }

    function save() {
      var order = rows().map(function (row) { return row.dataset.item; }).join(",");
      var data = new URLSearchParams({ order: order });
      body.classList.add("saving");
      fetch(table.dataset.reorderUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" }
      }).then(function (r) {
        body.classList.remove("saving");
        if (!r.ok) throw new Error("HTTP " + r.status);
        if (errorBox) errorBox.hidden = true;
      }).catch(function () {
        if (errorBox) {
          errorBox.textContent = "Could not save the new order; reloading the saved one.";
          errorBox.hidden = false;
        }
        setTimeout(function () { window.location.reload(); }, 1500);
      });
    }

    function move(row, offset) {
      var sibling = offset < 0 ? row.previousElementSibling : row.nextElementSibling;
      if (!sibling) return false;
      body.insertBefore(row, offset < 0 ? sibling : sibling.nextElementSibling);
      refresh();
      save();
      return true;
    }

    rows().forEach(function (row) { row.draggable = true; });

    body.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList.contains("move") || !event.submitter) return;
      event.preventDefault();
      var row = form.closest("tr");
      move(row, event.submitter.value === "up" ? -1 : 1);
      var same = row.querySelector("button[value=" + event.submitter.value + "]");
      (same && !same.disabled ? same : row).focus();
    });

    body.addEventListener("keydown", function (event) {
      var row = event.target.closest ? event.target.closest("tr") : null;
      if (!row || !event.altKey) return;
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      event.preventDefault();
      move(row, event.key === "ArrowUp" ? -1 : 1);
      row.focus();
    });

    body.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("tr");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.item);
    });
    body.addEventListener("dragover", function (event) {
      var target = event.target.closest("tr");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      rows().forEach(function (row) { row.classList.remove("drop-before"); });
      target.classList.add("drop-before");
    });
    body.addEventListener("drop", function (event) {
      var target = event.target.closest("tr");
      if (!dragged || !target || target === dragged) return;
      event.preventDefault();
      var all = rows();
      var before = all.indexOf(target) < all.indexOf(dragged) ? target : target.nextElementSibling;
      body.insertBefore(dragged, before);
      refresh();
      save();
    });
    body.addEventListener("dragend", function () {
      rows().forEach(function (row) { row.classList.remove("drop-before", "dragging"); });
      dragged = null;
    });
  }

  setupAutocomplete();
  setupReorder();
})();
