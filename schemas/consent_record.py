"""Validation of exported consent records and receipts against the shipped shapes.

Records and receipts are JSON-LD in the shipped context ``consent-record-v1``; they
are expanded without any network access and checked with SHACL
(``shapes/consent-record.ttl``, ISO/IEC TS 27560 in W3C DPV terms). The shapes graph
is parsed once per validator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rdflib
from pyshacl import validate as shacl_validate

from .errors import InvalidDocument
from .jsonld import CONSENT_RECORD_CONTEXT_URL, ShippedContextLoader, expand

SHAPES_FILE = Path(__file__).with_name("shapes") / "consent-record.ttl"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


class ConsentRecordValidator:
    def __init__(self) -> None:
        self._loader = ShippedContextLoader()
        self._shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")

    def graph(self, document: Any) -> rdflib.Graph:
        """The RDF graph of a record or receipt (no network, no dropped terms)."""
        if not isinstance(document, dict) or (
                document.get("@context") != CONSENT_RECORD_CONTEXT_URL):
            raise InvalidDocument([f"@context must be {CONSENT_RECORD_CONTEXT_URL}"])
        expanded = expand(document, self._loader)
        return rdflib.Graph().parse(data=json.dumps(expanded), format="json-ld")

    def validate(self, document: Any) -> rdflib.Graph:
        """Return the document's graph; raise InvalidDocument naming every violation."""
        data = self.graph(document)
        conforms, report, _ = shacl_validate(
            data, shacl_graph=self._shapes, inference="none", allow_warnings=False)
        if not conforms:
            messages = {str(m) for m in report.objects(None, SH.resultMessage)}
            raise InvalidDocument(sorted(messages) or ["record does not conform"])
        return data
