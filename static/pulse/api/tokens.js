// API token page: copy the one-time token, confirm before revoking.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  const copy = document.getElementById("copy-token");
  if (copy) {
    copy.addEventListener("click", async () => {
      const input = document.getElementById(copy.dataset.target);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        copy.textContent = "Copied";
      } catch (err) {
        copy.textContent = "Press Ctrl+C";
      }
    });
  }
  for (const form of document.querySelectorAll(".revoke-form")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm("Revoke this token? Programs using it stop working at once.")) {
        event.preventDefault();
      }
    });
  }
})();
