"""A software passkey for the tests that run without a browser (the browser tests use
Chromium's own virtual authenticator): an ES256 key that answers the portal's WebAuthn
options exactly as an authenticator and a browser would together (client data JSON,
authenticator data, a "none" attestation, an ECDSA signature), so the portal's checks run
on real WebAuthn bytes. ``origin`` and ``rp_id`` can be set to what a phishing page would
send; ``counter_step`` 0 or less plays a copied key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _cose(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, options: dict[str, Any], origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": origin,
                           "crossOrigin": False}).encode()

    def _auth_data(self, rp_id: str, flags: int, attested: bytes = b"") -> bytes:
        return (hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
                + struct.pack(">I", self.counter) + attested)

    def create(self, options_json: str, origin: str, rp_id: str | None = None) -> str:
        """What navigator.credentials.create() gives the page (as passkey.js sends it)."""
        options = json.loads(options_json)
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + self._cose())
        auth = self._auth_data(rp_id or options["rp"]["id"], UP | UV | AT, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth})
        return json.dumps({
            "id": b64(self.credential_id), "rawId": b64(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64(self._client_data("webauthn.create", options,
                                                                 origin)),
                         "attestationObject": b64(attestation)}})

    def get(self, options_json: str, origin: str, rp_id: str | None = None,
            counter_step: int = 1) -> str:
        """What navigator.credentials.get() gives the page."""
        options = json.loads(options_json)
        self.counter = max(self.counter + counter_step, 0)
        auth = self._auth_data(rp_id or options["rpId"], UP | UV)
        client_data = self._client_data("webauthn.get", options, origin)
        signature = self.key.sign(auth + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64(self.credential_id), "rawId": b64(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64(client_data),
                         "authenticatorData": b64(auth), "signature": b64(signature)}})
