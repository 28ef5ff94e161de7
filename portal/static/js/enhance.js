// Small enhancements only: every page works without this file.
(function () {
  "use strict";

  // Show the name and class fields only when the pupil chooses to give their name.
  function setUpReveal(block) {
    var rule = block.getAttribute("data-reveal-when").split("=");
    var form = block.closest("form");
    var radios = form.querySelectorAll('input[name="' + rule[0] + '"]');
    function update() {
      var chosen = form.querySelector('input[name="' + rule[0] + '"]:checked');
      var show = chosen && chosen.value === rule[1];
      var hasError = block.querySelector(".field-error");
      block.hidden = !(show || hasError);
    }
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  }
  document.querySelectorAll("[data-reveal-when]").forEach(setUpReveal);

  // A gentle count of characters left under long text boxes.
  document.querySelectorAll("textarea[data-maxlength]").forEach(function (area) {
    var max = parseInt(area.getAttribute("data-maxlength"), 10);
    var note = document.createElement("p");
    note.className = "hint counter";
    note.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", note);
    function update() {
      var left = max - area.value.length;
      note.textContent = left >= 0 ? left + " letters left" : "Too long by " + (-left) + " letters";
      note.classList.toggle("counter--over", left < 0);
    }
    area.addEventListener("input", update);
    update();
  });

  // Move focus to the error summary so a screen reader hears it first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  // Once an answer with an error is changed, its error goes: the message by the field, its
  // entry in the summary, and the summary itself when nothing is left in it. (Without this
  // file the next Send clears them anyway.)
  function clearError(group) {
    var error = group.querySelector(".field-error");
    if (!error) { return; }
    var id = error.id;
    error.remove();
    group.classList.remove("form-group--error");
    group.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var left = el.getAttribute("aria-describedby").split(" ").filter(function (part) {
        return part && part !== id;
      });
      if (left.length) { el.setAttribute("aria-describedby", left.join(" ")); }
      else { el.removeAttribute("aria-describedby"); }
    });
    if (!summary) { return; }
    var inputs = Array.prototype.map.call(group.querySelectorAll("input, textarea, select"),
      function (el) { return "#" + el.id; });
    summary.querySelectorAll(".error-summary__list a").forEach(function (link) {
      if (inputs.indexOf(link.getAttribute("href")) !== -1) { link.closest("li").remove(); }
    });
    var list = summary.querySelector(".error-summary__list");
    if (list && !list.querySelector("li")) {
      if (summary.querySelector("p")) { list.remove(); } else { summary.hidden = true; }
    }
  }
  document.querySelectorAll(".form-group--error").forEach(function (group) {
    ["input", "change"].forEach(function (name) {
      group.addEventListener(name, function () { clearError(group); });
    });
  });

  // Kiosk tablets: back to a clean start after a while untouched.
  var idle = parseInt(document.body.getAttribute("data-kiosk-idle") || "0", 10);
  var resetUrl = document.body.getAttribute("data-kiosk-reset");
  if (idle > 0 && resetUrl) {
    var timer = null;
    var restart = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { window.location.replace(resetUrl); }, idle * 1000);
    };
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true });
    });
    restart();
  }

  // Quick exit: also replace this page in the history so Back doesn't return here.
  document.querySelectorAll("[data-quick-exit]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.replace(link.href);
    });
  });
})();
