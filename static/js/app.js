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

  // Inline confirmations (views/components/confirm.templ). Opening one puts the focus on its
  // Cancel, so an Enter pressed out of habit does nothing risky; Cancel and Escape close it.
  // A question the server rendered focuses Cancel by autofocus; its Cancel is a link.
  function setupConfirm() {
    // toggle does not bubble: listen while it travels down.
    document.addEventListener("toggle", function (e) {
      var details = e.target;
      if (!details.matches || !details.matches("details.confirm-toggle") || !details.open) return;
      var cancel = details.querySelector("[data-confirm-cancel]");
      if (cancel) cancel.focus();
    }, true);
    document.addEventListener("click", function (e) {
      var cancel = e.target.closest && e.target.closest("button[data-confirm-cancel]");
      if (!cancel) return;
      var details = cancel.closest("details.confirm-toggle");
      if (!details) return;
      details.open = false;
      details.querySelector("summary").focus();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      var box = openConfirm();
      if (!box) return;
      e.preventDefault();
      box.querySelector("[data-confirm-cancel]").click();
    });
  }

  // openConfirm is the question Escape answers: the one holding the focus (or whose button
  // opened it), else the only one shown.
  function openConfirm() {
    var active = document.activeElement;
    var shown = Array.prototype.filter.call(document.querySelectorAll("[data-confirm-box]"), function (box) {
      // A closed details element keeps its content's boxes: ask checkVisibility where it exists.
      return box.checkVisibility ? box.checkVisibility() : box.getClientRects().length > 0;
    });
    for (var i = 0; i < shown.length; i++) {
      var details = shown[i].closest("details.confirm-toggle");
      if (shown[i].contains(active) || (details && details.contains(active))) return shown[i];
    }
    return shown.length === 1 ? shown[0] : null;
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

  // After a refused form the focus goes to the first field in error (the form components mark
  // it aria-invalid), on a page the server rendered and in a fragment htmx swapped in, so the
  // person can correct it at once.
  function focusFirstInvalid(root) {
    var fields = (root || document).querySelectorAll('[aria-invalid="true"]');
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].disabled || fields[i].getClientRects().length === 0) continue;
      fields[i].focus();
      return;
    }
  }

  function setupFocus() {
    focusFirstInvalid(document);
    document.addEventListener("htmx:afterSettle", function (e) {
      focusFirstInvalid(e.detail && e.detail.elt);
    });
  }

  // A search box with data-pick-into finds choices for a select (the activity log's "Find a
  // person…"). Enter picks the first one found for what was typed, as a person choosing it
  // would: the select changes, and the form it belongs to reacts. When the choices shown are
  // not yet those of what was typed (the typing's delay has not passed), Enter picks once they
  // arrive. A choice marked data-kept was not found, only kept because it is the current one.
  function setupPickOnEnter() {
    function pickFirst(select) {
      var first = Array.prototype.find.call(select.options, function (o) { return o.value !== "" && !o.hasAttribute("data-kept"); });
      if (!first || select.value === first.value) return;
      select.value = first.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || !e.target.matches || !e.target.matches("input[data-pick-into]")) return;
      e.preventDefault(); // not a submit of the whole form
      var select = document.querySelector(e.target.getAttribute("data-pick-into"));
      var wanted = e.target.value.trim();
      if (!select || wanted === "") return;
      if (select.getAttribute("data-found-for") === wanted) {
        pickFirst(select);
      } else {
        select.setAttribute("data-pick-for", wanted);
      }
    });
    // The choices arrived: what they were found for is the search of their request.
    document.addEventListener("htmx:afterSettle", function (e) {
      var select = e.target;
      if (!select.matches || !select.matches("select") || !e.detail.pathInfo) return;
      var found = (new URL(e.detail.pathInfo.finalRequestPath, location.href).searchParams.get("people") || "").trim();
      select.setAttribute("data-found-for", found);
      if (select.getAttribute("data-pick-for") === found) {
        select.removeAttribute("data-pick-for");
        pickFirst(select);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setupMenu(); setupConfirm(); setupCopy(); setupFocus(); setupPickOnEnter(); });
  } else {
    setupMenu();
    setupConfirm();
    setupCopy();
    setupFocus();
    setupPickOnEnter();
  }
})();
