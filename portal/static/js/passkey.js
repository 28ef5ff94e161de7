// Passkeys (portal.auth.views_passkeys): asks the browser for a new passkey, or for one of
// the account's passkeys at the second step of signing in, and sends what it answers in
// the page's own form. Without this file (or without passkeys in the browser) the pages
// still work: the code from the authenticator app signs in.
(function () {
  "use strict";

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function serialise(credential) {
    var response = credential.response;
    var out = { id: credential.id, rawId: toText(credential.rawId), type: credential.type,
                clientExtensionResults: credential.getClientExtensionResults(),
                response: { clientDataJSON: toText(response.clientDataJSON) } };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) { out.response.transports = response.getTransports(); }
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    if (credential.authenticatorAttachment) {
      out.authenticatorAttachment = credential.authenticatorAttachment;
    }
    return JSON.stringify(out);
  }

  // The words beside the button (the element named by data-passkey-say, read out when
  // they change): what to do now, or why nothing happened.
  function say(block, words) {
    var status = document.getElementById(block.getAttribute("data-passkey-say"));
    if (status) { status.textContent = words; }
  }

  function setUp(block) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(block, block.getAttribute("data-passkey-unsupported"));
      return;
    }
    var form = block.querySelector("form");
    var field = form.querySelector('input[name="credential"]');
    var mode = block.getAttribute("data-passkey");
    var json = block.getAttribute("data-passkey-options");
    block.hidden = false;
    say(block, "");
    form.addEventListener("submit", function (event) {
      if (field.value) { return; }  // the answer is in: send the form
      event.preventDefault();
      say(block, block.getAttribute("data-passkey-waiting"));
      var asking = mode === "add"
        ? navigator.credentials.create({ publicKey: creationOptions(json) })
        : navigator.credentials.get({ publicKey: requestOptions(json) });
      asking.then(function (credential) {
        field.value = serialise(credential);
        form.submit();
      }, function () {
        say(block, block.getAttribute("data-passkey-cancelled"));
      });
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(setUp);
}());
