// Alert pages: show only the scope field that matters, confirm deletions.
(function () {
  "use strict";
  const scope = document.getElementById("id_scope");
  if (scope) {
    const fields = { symbol: "symbol", watchlist: "watchlist", asset_class: "asset_class" };
    const sync = function () {
      Object.keys(fields).forEach(function (kind) {
        const box = document.querySelector('.al-field[data-field="' + fields[kind] + '"]');
        if (box) box.hidden = scope.value !== kind;
      });
    };
    scope.addEventListener("change", sync);
    sync();
  }
  document.addEventListener("click", function (e) {
    const button = e.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) e.preventDefault();
  });
})();
