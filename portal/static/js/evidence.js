// The report forms' files, checked before anything is sent: a file over the per-file limit,
// too many files, or too much in all is named at once, and Send waits until it is put right,
// so nothing the person wrote is lost to a refused upload. The server checks it all again.
(function () {
  "use strict";
  var MB = 1024 * 1024;

  function setUp(box) {
    var input = box.querySelector('input[type="file"]');
    var group = box.querySelector(".form-group");
    var form = box.closest("form");
    if (!input || !form) { return; }
    var maxFiles = parseInt(box.getAttribute("data-max-files"), 10);
    var maxFile = parseInt(box.getAttribute("data-max-file-mb"), 10);
    var maxTotal = parseInt(box.getAttribute("data-max-total-mb"), 10);
    var note = document.createElement("p");
    note.id = input.id + "-size";
    note.setAttribute("aria-live", "polite");
    note.setAttribute("data-evidence-size-error", "");
    note.hidden = true;
    input.insertAdjacentElement("beforebegin", note);
    var described = input.getAttribute("aria-describedby") || "";
    input.setAttribute("aria-describedby", (described + " " + note.id).trim());

    function size(bytes) { return (bytes / MB).toFixed(1) + " MB"; }
    function named(files) {
      return files.map(function (f) { return "\u201c" + f.name + "\u201d (" + size(f.size) + ")"; })
        .join(" and ");
    }

    function problem() {
      var files = Array.prototype.slice.call(input.files || []);
      var big = files.filter(function (f) { return f.size > maxFile * MB; });
      if (big.length) {
        return named(big) + (big.length === 1 ? " is" : " are") + " too big to send: each " +
          "file must be smaller than " + maxFile + " MB. Please choose your files again " +
          "without " + (big.length === 1 ? "it" : "them") + ", or send without them.";
      }
      if (files.length > maxFiles) {
        return "You chose " + files.length + " files. Please choose " + maxFiles + " or fewer.";
      }
      var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
      if (total > maxTotal * MB) {
        return "Your files add up to " + size(total) + ". All together they must be " +
          "smaller than " + maxTotal + " MB. Please choose fewer.";
      }
      return "";
    }

    function show() {
      var text = problem();
      note.textContent = text;
      note.hidden = !text;
      // An error only while there is one, so an empty note never counts as a message.
      note.className = text ? "field-error" : "";
      if (group) { group.classList.toggle("form-group--error", Boolean(text)); }
      return text;
    }

    input.addEventListener("change", show);
    form.addEventListener("submit", function (event) {
      if (show()) {
        event.preventDefault();
        input.focus();
      }
    });
  }

  document.querySelectorAll("[data-evidence-limits]").forEach(setUp);
})();
