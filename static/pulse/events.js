/* Event history: keep shared URLs short and apply select/checkbox filters at once.
 *
 * Without JavaScript the form is an ordinary GET form; nothing here is required.
 */
(function () {
  "use strict";
  var form = document.getElementById("event-filters");
  if (form) {
    form.addEventListener("submit", function () {
      // Empty fields would only clutter the shareable query string.
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.type !== "checkbox" && el.value === "") el.disabled = true;
      });
    });
    window.addEventListener("pageshow", function () {
      // Coming back from the history cache: the fields disabled on submit must work again.
      Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
    });
    form.addEventListener("change", function (event) {
      var el = event.target;
      if (el.tagName === "SELECT" || el.type === "checkbox") {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
    });
  }
  // Show each UTC time in the reader's local time on hover.
  Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) el.title = when.toLocaleString() + " (your time)";
  });
})();
