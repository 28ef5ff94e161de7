// The case page without a full page load per action (issue 12 item 8). Loaded on the case
// page only. Every form on it still works without this file; with it, a form is sent with
// fetch() (the same address, the same fields, the CSRF token with them), and the server's
// own answer (the case page it redirects to, with its message, or the 400 page with the
// errors and the typed values) replaces the page's content in place: the scroll position
// stays by the form just used, focus goes to the message or the first error, which is also
// read out through a live region, and what the DSL opened or typed elsewhere is kept.
// When the answer is not the case page (the sign-in page after the session ended, an error
// page: 400, 403, 405, 413, 429 ...), nothing is sent again and nothing on the page changes:
// every typed value stays, and what happened is said in place, by the form's button, with
// focus and the live region. Only a network failure (fetch itself failing) sends the form
// again the ordinary way. A form bigger than the server accepts (data-max-body, the
// server's MAX_CONTENT_LENGTH) is not sent at all: the field that is too long is named.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var page = document.querySelector("[data-case-page]");
  if (!main || !page || !window.fetch || !window.DOMParser || !window.URLSearchParams) { return; }
  var caseId = page.getAttribute("data-case-page");

  // One live region, kept across swaps (a region added with its text is often not read).
  var live = document.createElement("div");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("data-case-live", "");
  main.insertBefore(live, main.firstChild);

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function words(el) { return (el.textContent || "").replace(/\s+/g, " ").trim(); }

  // Where a form sits: its own id (the action cards, the checklist), else its section.
  function anchorOf(form) {
    if (form.id) { return { id: form.id, form: true }; }
    var section = form.closest("section[id]");
    return section ? { id: section.id, form: false } : null;
  }

  // A <details> is known by its id, else by its place in the nearest labelled container.
  function detailsKey(details) {
    if (details.id) { return "#" + details.id; }
    var box = details.parentElement && details.parentElement.closest("[id], [aria-labelledby]");
    var name = box ? (box.id || box.getAttribute("aria-labelledby")) : "";
    var all = box ? box.querySelectorAll("details") : [];
    return name + ":" + Array.prototype.indexOf.call(all, details);
  }

  function openDetails() {
    var keys = {};
    main.querySelectorAll("details[open]").forEach(function (d) { keys[detailsKey(d)] = true; });
    return keys;
  }

  // What was typed or chosen in the other forms and not sent yet, by field id.
  function unsent(except) {
    var kept = [];
    main.querySelectorAll("form").forEach(function (form) {
      if (form === except) { return; }
      form.querySelectorAll("input, textarea, select").forEach(function (el) {
        if (!el.id || el.type === "hidden" || el.type === "submit") { return; }
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.checked !== el.defaultChecked) { kept.push({ id: el.id, checked: el.checked }); }
        } else if (el.tagName === "SELECT") {
          var chosen = el.options[el.selectedIndex];
          if (chosen && !chosen.defaultSelected) { kept.push({ id: el.id, value: el.value }); }
        } else if (el.value !== el.defaultValue) {
          kept.push({ id: el.id, value: el.value });
        }
      });
    });
    return kept;
  }

  function restore(kept, sentFormId) {
    kept.forEach(function (item) {
      var el = document.getElementById(item.id);
      if (!el || !main.contains(el) || (sentFormId && el.form && el.form.id === sentFormId)) {
        return;
      }
      if ("checked" in item) {
        el.checked = item.checked;
      } else if (el.tagName === "SELECT") {
        var has = Array.prototype.some.call(el.options, function (o) { return o.value === item.value; });
        if (has) { el.value = item.value; }
      } else if (el.value === el.defaultValue) {
        el.value = item.value;
      }
    });
  }

  var SIGNED_OUT = "You were signed out, so nothing was saved. Sign in again in a new tab, " +
    "then press the button again: what you typed is still here.";

  function fieldName(form, name) {
    var el = form.querySelector("[name=\"" + name + "\"]");
    var label = el && el.labels && el.labels[0];
    var text = label ? words(label).replace(/\s*\(.*$/, "") : name;
    return "\u201c" + text + "\u201d";
  }

  // The form's fields over the request cap, else null: the longest field is the one named.
  function tooBig(form, fields, body) {
    var limit = parseInt((page && page.getAttribute("data-max-body")) || "", 10);
    if (!limit || body.toString().length <= limit) { return null; }
    var longest = null;
    fields.forEach(function (value, name) {
      if (typeof value === "string" && (!longest || value.length > longest.value.length)) {
        longest = { name: name, value: value };
      }
    });
    var size = longest ? longest.value.length.toLocaleString("en-GB") : "";
    return (longest ? fieldName(form, longest.name) + " is too long to send (" + size +
            " characters). " : "This is too long to send. ") +
      "Nothing was sent, and what you typed is still here: make it shorter (or save it in " +
      "parts), then press the button again.";
  }

  // Say, by the form's button, why nothing was saved; the page is otherwise left as it is.
  function refuse(form, submitter, text) {
    var old = form.querySelector("[data-case-refusal]");
    if (old) { old.parentNode.removeChild(old); }
    var box = document.createElement("div");
    box.className = "error-summary";
    box.setAttribute("data-case-refusal", "");
    box.setAttribute("tabindex", "-1");
    var title = document.createElement("h2");
    title.className = "error-summary__title";
    title.textContent = "Not saved";
    var said = document.createElement("p");
    said.textContent = text;
    box.appendChild(title);
    box.appendChild(said);
    var button = submitter || form.querySelector("button[type=submit], button:not([type])");
    var place = button ? (button.closest(".button-row") || button) : null;
    if (place && form.contains(place)) {
      place.parentNode.insertBefore(box, place);
    } else {
      form.insertBefore(box, form.firstChild);
    }
    box.focus({ preventScroll: true });
    var seen = box.getBoundingClientRect();
    if (seen.top < 0 || seen.bottom > window.innerHeight) { box.scrollIntoView({ block: "nearest" }); }
    announce(words(box));
  }

  // What an answer that is not this case page says: the sign-in page, else the error
  // page's own heading and message.
  function refusal(response, doc) {
    var path = "";
    try { path = new URL(response.url).pathname; } catch (e) { path = ""; }
    if (path.indexOf("/staff/login") === 0 || doc.querySelector("form[action^='/staff/login']")) {
      return SIGNED_OUT;
    }
    var panel = doc.querySelector("[data-error-page]") || doc.getElementById("main") || doc.body;
    var heading = panel && panel.querySelector("h1");
    var lead = panel && panel.querySelector(".lead");
    var text = [heading ? words(heading) : "", lead ? words(lead) : ""].join(". ")
      .replace(/^\. |\. $/g, "").replace(/\.\./g, ".");
    return text || ("That was not saved (the server answered " + response.status +
                    "). What you typed is still here: press the button again.");
  }

  function buttonIndex(form, button) {
    return button ? Array.prototype.indexOf.call(form.querySelectorAll("button"), button) : -1;
  }

  // Put the server's message by the form just used (before its button), else at the top of
  // its section; give it focus without jumping the page, and read it out.
  function tell(anchor, index) {
    var errors = null;
    if (anchor) { errors = anchor.querySelector("[data-error-summary]") || anchor.querySelector(".field-error"); }
    errors = errors || main.querySelector("[data-error-summary]") || main.querySelector(".field-error");
    var flash = main.querySelector(".flash");
    var target = errors || flash;
    if (!target) {
      // No message came back: focus stays by the form used (its button, else its card),
      // never on the page's body.
      var back = anchor && ((index >= 0 && anchor.querySelectorAll("button")[index]) ||
                            anchor.querySelector("button"));
      var spot = back || anchor || main.querySelector("h1") || main;
      if (!back && !spot.hasAttribute("tabindex")) { spot.setAttribute("tabindex", "-1"); }
      spot.focus({ preventScroll: true });
      return;
    }
    if (!errors && anchor) {
      var button = index >= 0 ? anchor.querySelectorAll("button")[index] : null;
      var place = button ? (button.closest(".button-row") || button) : null;
      flash.classList.add("flash--here");
      if (place && anchor.contains(place)) {
        place.parentNode.insertBefore(flash, place);
      } else {
        var heading = anchor.querySelector("h2");
        anchor.insertBefore(flash, heading ? heading.nextSibling : anchor.firstChild);
      }
    }
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus({ preventScroll: true });
    var box = target.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      target.scrollIntoView({ block: box.height > window.innerHeight ? "start" : "nearest" });
    }
    announce(words(target));
  }

  function swap(doc, form, submitter) {
    var anchor = anchorOf(form);
    var before = anchor && document.getElementById(anchor.id);
    var index = anchor && anchor.form ? buttonIndex(form, submitter) : -1;
    var reference = (index >= 0 && submitter) || before;
    var top = reference ? reference.getBoundingClientRect().top : null;
    var opened = openDetails();
    var kept = unsent(form);

    var incoming = doc.getElementById("main");
    Array.prototype.slice.call(main.childNodes).forEach(function (node) {
      if (node !== live) { main.removeChild(node); }
    });
    Array.prototype.slice.call(incoming.childNodes).forEach(function (node) {
      main.appendChild(document.importNode(node, true));
    });
    if (doc.title) { document.title = doc.title; }
    page = main.querySelector("[data-case-page]");

    main.querySelectorAll("details").forEach(function (d) {
      if (opened[detailsKey(d)]) { d.open = true; }
    });
    restore(kept, form.id);

    var after = anchor && document.getElementById(anchor.id);
    var again = after && index >= 0 ? after.querySelectorAll("button")[index] : null;
    var now = again || after;
    if (now && top !== null) { window.scrollBy(0, now.getBoundingClientRect().top - top); }
    tell(after, again ? index : -1);
  }

  // Send the form the ordinary way (a full page load), as if this file were not here.
  function natively(form, submitter) {
    form.setAttribute("data-case-native", "");
    if (form.requestSubmit) {
      form.requestSubmit(submitter || undefined);
    } else {
      form.submit();
    }
  }

  function send(form, submitter) {
    var action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
    var method = ((submitter && submitter.getAttribute("formmethod")) || form.getAttribute("method") || "get").toLowerCase();
    var fields;
    try {
      fields = new FormData(form, submitter || undefined);
    } catch (e) {
      fields = new FormData(form);
    }
    var body = new URLSearchParams(fields);
    var big = method === "post" ? tooBig(form, fields, body) : null;
    if (big) {
      refuse(form, submitter, big);
      return;
    }
    var options = { method: method === "post" ? "POST" : "GET", credentials: "same-origin",
                    headers: { Accept: "text/html" } };
    if (method === "post") {
      options.body = body;
    } else {
      var url = new URL(action);
      url.search = body.toString();
      action = url.toString();
    }
    form.setAttribute("aria-busy", "true");
    fetch(action, options).then(function (response) {
      // The server answered: whatever it said, the form is never sent a second time.
      return response.text().then(function (html) {
        form.removeAttribute("aria-busy");
        answered(form, submitter, response, html);
      }, function () {
        form.removeAttribute("aria-busy");
        refuse(form, submitter, "The answer could not be read. What you typed is still " +
               "here: reload the case in a new tab to check whether it was saved.");
      });
    }, function () {
      // A network failure: nothing reached the server, so the ordinary way may try again.
      form.removeAttribute("aria-busy");
      natively(form, submitter);
    });
  }

  function answered(form, submitter, response, html) {
    var type = response.headers.get("Content-Type") || "";
    var doc = new DOMParser().parseFromString(type.indexOf("text/html") === 0 ? html : "",
                                              "text/html");
    var root = doc.querySelector("[data-case-page]");
    if (!root || root.getAttribute("data-case-page") !== caseId || !doc.getElementById("main")) {
      refuse(form, submitter, refusal(response, doc));
      return;
    }
    try {
      swap(doc, form, submitter);
    } catch (e) {
      // The change is made (the server answered with the case page): show it by loading
      // the case page, never by sending the form again.
      window.location.assign(window.location.pathname);
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !main.contains(form)) { return; }
    if (form.hasAttribute("data-case-native") || event.defaultPrevented) { return; }
    var submitter = event.submitter || null;
    var action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
    if (new URL(action, window.location.href).origin !== window.location.origin) { return; }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") { return; }  // already on its way
    send(form, submitter);
  });
})();
