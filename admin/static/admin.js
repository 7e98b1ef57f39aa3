// scimd admin console: Copy buttons. Everything else works without
// JavaScript; these buttons stay hidden when it is off.
"use strict";
(function () {
  function announce(button, text) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = text;
    button.setAttribute("aria-live", "polite");
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }
  function copy(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    var text = input.value;
    var done = function () { button.setAttribute("data-copied", text.length); announce(button, "Copied"); };
    var fallback = function () {
      input.focus();
      input.select();
      try { document.execCommand("copy"); done(); } catch (e) { announce(button, "Press Ctrl+C"); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }
  document.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { copy(b); });
  });
  // Select the whole token or URL on focus, for copying by keyboard.
  document.querySelectorAll("input[readonly]").forEach(function (i) {
    i.addEventListener("focus", function () { i.select(); });
  });
})();
