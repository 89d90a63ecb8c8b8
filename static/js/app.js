// Portier's own behaviour. No inline scripts or handlers anywhere: the CSP forbids them.
(function () {
  "use strict";

  // The navigation folds into a menu button on narrow screens.
  function setupMenu() {
    var button = document.querySelector("[data-menu-toggle]");
    var nav = document.getElementById("app-nav");
    if (!button || !nav) return;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
      nav.classList.toggle("is-open", !open);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && nav.classList.contains("is-open")) {
        nav.classList.remove("is-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  // Buttons with data-confirm ask before their form is submitted.
  function setupConfirm() {
    document.addEventListener("submit", function (e) {
      var submitter = e.submitter;
      var msg = (submitter && submitter.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
      if (msg && !window.confirm(msg)) e.preventDefault();
    }, true);
  }

  // Buttons with data-copy copy the text of the element with that id (a new API token), and
  // select it where the clipboard is not available (plain HTTP), ready for Ctrl+C.
  function setupCopy() {
    document.addEventListener("click", function (e) {
      var button = e.target.closest && e.target.closest("[data-copy]");
      if (!button) return;
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) return;
      var range = document.createRange();
      range.selectNodeContents(source);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var done = button.getAttribute("data-copied");
          if (done) button.textContent = done;
        }, function () {});
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setupMenu(); setupConfirm(); setupCopy(); });
  } else {
    setupMenu();
    setupConfirm();
    setupCopy();
  }
})();
