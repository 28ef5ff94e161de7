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
