"""Signing and verifying JSON documents with the holder's key.

The signature covers a domain tag, the document type and the canonical bytes of the
document without its ``proof`` member, so that a signature over one kind of document
can never be replayed as another kind.
"""

from __future__ import annotations

from typing import Any

from .canonical import canonical_bytes
from .errors import InvalidSignature
from .keys import verify

DOMAIN = b"virtuele-gemeente/signed-document/v1\x00"


def signing_input(document: dict[str, Any], *, parsed_bounded: bool = False) -> bytes:
    """The bytes signed; ``parsed_bounded`` as for ``canonical_bytes``."""
    body = {k: v for k, v in document.items() if k != "proof"}
    kind = str(body.get("type", "")).encode("utf-8")
    try:
        return DOMAIN + kind + b"\x00" + canonical_bytes(
            body, parsed_bounded=parsed_bounded)
    except ValueError as exc:
        raise InvalidSignature() from exc


def sign_document(document: dict[str, Any], key) -> dict[str, Any]:
    """A copy of ``document`` with a proof by ``key`` (a consent.keys.HolderKey)."""
    body = {k: v for k, v in document.items() if k != "proof"}
    return {**body, "proof": {"verificationMethod": key.did,
                              "signature": key.sign(signing_input(body))}}


def verify_document(document: dict[str, Any], signer: Any, *,
                    parsed_bounded: bool = False) -> None:
    """Raise InvalidSignature unless ``signer`` (a did:key) signed ``document``.
    ``parsed_bounded``: ``document`` came from ``schemas.parse_bounded``."""
    signature = proof_signature(document, signer)
    verify(signer, signing_input(document, parsed_bounded=parsed_bounded), signature)


def proof_signature(document: dict[str, Any], signer: Any) -> str:
    """The signature of ``document``'s proof, which must name ``signer`` (a did:key)
    and hold a signature of a sane length; raise InvalidSignature otherwise. The
    form only: whether the signature verifies is ``verify_document``'s question."""
    proof = document.get("proof")
    if not isinstance(proof, dict) or not isinstance(signer, str):
        raise InvalidSignature()
    if proof.get("verificationMethod") != signer:
        raise InvalidSignature()
    signature = proof.get("signature")
    if not isinstance(signature, str) or len(signature) > 200:
        raise InvalidSignature()
    return signature
