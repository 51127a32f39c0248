"""The holder's export: one signed JSON-LD archive of everything in the pod, which
imports into a new pod on another server with the same result (GDPR art. 15 and 20).

The archive holds the Workcontext history (the last version is the current one), the
grants with their withdrawal marks, the publication sequence number, the binaries
(base64, with name, media type, size and time saved), and the holder's copy of their
access log. Its ``proof`` is the holder's Ed25519 signature over all of
it (consent.signed). The signing seed travels sealed under a key derived with
Argon2id from the passphrase the holder gives for the export, so the archive alone
does not let anyone act as the holder. Embedded documents are JSON literals
(``@json``), so reading the archive as JSON-LD expands nothing and fetches nothing.

Anyone can upload an archive: a fresh key signs its own. So the sealed identity key
is checked for shape and for an Argon2id cost this server accepts before its key is
derived, and the derivation waits for the store's limiter (derivation.py) like an
unlock does.

An archive is parsed in memory, so it is bounded (MAX_ARCHIVE_BYTES); a pod whose
binaries do not fit is refused with ArchiveTooLarge rather than exported without
them, and its binaries stay downloadable one by one. A streamed container would lift
the bound; it needs the import to stage the upload encrypted, which is not built.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any, Callable

from consent import (
    ConsentError,
    HolderKey,
    format_time,
    grant_from_json,
    parse_time,
    verify_document,
)

from . import crypto, limits
from .binaries import BinaryWriter, binaries, check_name, read_range
from .derivation import NORMALISATION, KeyDerivation
from .errors import (
    ArchiveTooLarge,
    DecryptionFailed,
    InvalidArchive,
    InvalidName,
    UnlockFailed,
)
from .holder import GrantRecord, UnlockedPod

ARCHIVE_TYPE = "PodExport"
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
# Room for everything but the binaries; their base64 takes 4/3 of their size.
MAX_BINARY_BYTES = (MAX_ARCHIVE_BYTES - 8 * 1024 * 1024) // 4 * 3
MAX_DEPTH = 16
MAX_NODES = 500_000
TOO_DEEP = "the archive is nested too deeply or too large"
VOCAB = "https://w3id.org/virtuele-gemeente/pod#"
CONTEXT = {
    "@vocab": VOCAB,
    "type": "@type",
    "holder": {"@type": "@id"},
    "exported": {"@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
    "history": {"@type": "@json"},
    "grants": {"@type": "@json"},
    "accessLog": {"@type": "@json"},
    "binaries": {"@type": "@json"},
    "identityKey": {"@type": "@json"},
    "proof": {"@type": "@json"},
}
_MEMBERS = {"@context", "type", "holder", "exported", "sequence", "history", "grants",
            "accessLog", "identityKey", "proof"}
_OPTIONAL = {"binaries"}  # archives made before binaries were exported lack it
_BINARY_MEMBERS = {"name", "mediaType", "saved", "size", "content"}
_GRANT_TIMES = ("withdrawn", "pending", "publishing")
_GRANT_MEMBERS = ({"grant", "withdrawn"}, {"grant", "renewedBy", *_GRANT_TIMES})
_KEY_AD = b"vg-pod-export-identity"
_KEY_ALG = "argon2id+xchacha20poly1305"
_KEY_MEMBERS = {"alg", "salt", "opslimit", "memlimit", "sealed"}


def export_archive(pod: UnlockedPod, passphrase: str, access_log: list[dict],
                   now: datetime, derivation: KeyDerivation) -> dict:
    """The signed archive; ``access_log`` is the holder's view of the audit log,
    handed in by the composition layer (the pod does not read the registry). The
    identity key is sealed at the cost ``derivation`` makes new keys at."""
    state = pod.read_state()
    history = [{"version": entry["version"], "saved": entry["saved"],
                "document": document} for entry, document in pod.history()]
    body = {
        "@context": CONTEXT,
        "type": ARCHIVE_TYPE,
        "holder": pod.did,
        "exported": format_time(now),
        "sequence": state["sequence"],
        "history": history,
        "grants": state["grants"],
        "accessLog": pod.imported_access_log() + list(access_log),
        "binaries": _export_binaries(pod),
        "identityKey": _seal_seed(pod.key_material()[0], passphrase, derivation),
    }
    return pod.sign(body)


def import_archive(store, archive: Any, passphrase: str, now: datetime, *,
                   prepare: Callable[[UnlockedPod, dict], dict],
                   validate: Callable[[dict, str], None] | None = None,
                   sequence_floor: Callable[[str], int] | None = None) -> UnlockedPod:
    """A new pod in ``store`` with the archive's identity and contents.

    Everything is checked before anything is written: the structure, the sealed
    identity key's shape and cost, the holder's signature, the sealed seed against
    the holder's did, and (``validate``) each Workcontext version. ``prepare`` then
    gives each version as the new pod stores it (a document is stored as a save
    would store it, not as the archive says). ``sequence_floor`` names the highest
    sequence number already used for the holder where the pod will publish: the
    pod's next document is signed above it and above the archive's. A refused
    archive leaves no pod behind.
    """
    _check_structure(archive)
    _check_identity_key(archive["identityKey"], store.derivation)
    try:
        verify_document(archive, archive["holder"])
    except ConsentError as exc:
        raise InvalidArchive(["the archive's signature does not verify"]) from exc
    seed = _open_seed(archive["identityKey"], passphrase, store.derivation)
    holder = archive["holder"]
    if HolderKey(seed).did != holder:
        raise InvalidArchive(["the identity key does not belong to the holder"])
    _check_grants(archive["grants"], holder, now)
    if validate is not None:
        for entry in archive["history"]:
            validate(entry["document"], holder)
    floor = sequence_floor(holder) if sequence_floor is not None else 0
    sequence = max(archive["sequence"], floor)
    pod = store.create(passphrase, now, seed=seed)
    try:
        history = [{**entry, "document": prepare(pod, entry["document"])}
                   for entry in archive["history"]]
        writers, files = _import_binaries(pod, archive.get("binaries", []))
        pod.load(history, archive["grants"], sequence, archive["accessLog"], files,
                 before_commit=lambda: [writer.place() for writer in writers])
    except BaseException:
        store.erase(pod)
        raise
    return pod


def _export_binaries(pod: UnlockedPod) -> list[dict]:
    infos = binaries(pod)
    if sum(info.size for info in infos) > MAX_BINARY_BYTES:
        raise ArchiveTooLarge(MAX_ARCHIVE_BYTES)
    return [{"name": info.name, "mediaType": info.media_type, "saved": info.saved,
             "size": info.size,
             "content": _b64(b"".join(read_range(pod, info)) if info.size else b"")}
            for info in infos]


def _import_binaries(pod: UnlockedPod, entries: list[dict]
                     ) -> tuple[list[BinaryWriter], dict[str, dict]]:
    """Encrypt each binary into the new pod; the caller places the files and
    names them in one commit."""
    writers, files = [], {}
    for entry in entries:
        writer = BinaryWriter(pod, entry["name"], entry["mediaType"])
        try:
            writer.write(base64.b64decode(entry["content"], validate=True))
            files[entry["name"]] = writer.finish_unrecorded(entry["saved"])
        except BaseException:
            writer.abort()
            raise
        writers.append(writer)
    return writers, files


def read_archive(raw: bytes) -> Any:
    """Parse an uploaded archive within its bounds."""
    if len(raw) > MAX_ARCHIVE_BYTES:
        raise InvalidArchive([f"an archive is at most {MAX_ARCHIVE_BYTES} bytes"])
    if _most_values(raw) > MAX_NODES:
        raise InvalidArchive([TOO_DEEP])
    try:
        value = json.loads(raw)
    except RecursionError as exc:  # CPython's decoder recurses per level
        raise InvalidArchive([TOO_DEEP]) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArchive(["the archive is not valid JSON"]) from exc
    _check_bounds(value)
    return value


def _most_values(raw: bytes) -> int:
    """At most how many values ``raw`` holds, told from its text before it is
    parsed: a value is the first of the document or of its container, or follows
    a comma (RFC 8259 sections 4 and 5), so there are at most one more than the
    commas and opening brackets outside strings. Parsed first and counted after,
    64 MiB of ``{},`` took over 1.5 GiB to build. Counted over the whole text
    first, which is cheap and enough for an archive of base64 binaries; only a
    text with more than the bound counts again with its strings left out."""
    text = raw if json.detect_encoding(raw) == "utf-8" else _decoded(raw)
    marks = (b",", b"[", b"{") if isinstance(text, bytes) else (",", "[", "{")
    most = 1 + sum(text.count(mark) for mark in marks)
    if most <= MAX_NODES:
        return most
    pattern = _STRINGS if isinstance(text, bytes) else _TEXT_STRINGS
    bare = pattern.sub(marks[0][:0], text)
    return 1 + sum(bare.count(mark) for mark in marks)


# A JSON string with its escapes (outside strings a backslash is a syntax error,
# where the parser stops anyway).
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TEXT_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def _decoded(raw: bytes) -> str:
    try:
        return raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError as exc:
        raise InvalidArchive(["the archive is not valid JSON"]) from exc


def _seal_seed(seed: bytes, passphrase: str, derivation: KeyDerivation) -> dict:
    salt = crypto.random_salt()
    key = derivation.derive_new(passphrase, salt)
    return {"alg": _KEY_ALG, "salt": _b64(salt),
            "opslimit": derivation.cost[0], "memlimit": derivation.cost[1],
            "normalise": NORMALISATION, "sealed": _b64(crypto.seal(key, seed, _KEY_AD))}


def _check_identity_key(sealed: dict, derivation: KeyDerivation) -> None:
    """Refuse a malformed key, or one sealed at a cost above what this server
    accepts, before any key is derived."""
    problems = []
    if set(sealed) - {"normalise"} != _KEY_MEMBERS or sealed["alg"] != _KEY_ALG \
            or sealed.get("normalise", NORMALISATION) != NORMALISATION:
        members = ", ".join(sorted(_KEY_MEMBERS))
        problems.append(f"identityKey must have exactly {members} with alg {_KEY_ALG}"
                        f" (and normalise {NORMALISATION}, or none before it)")
    elif not derivation.accepts(sealed["opslimit"], sealed["memlimit"]):
        ops, mem = derivation.ceiling
        problems.append(f"identityKey: the Argon2id cost must be an opslimit of "
                        f"{crypto.MIN_OPSLIMIT} to {ops} and a memlimit of "
                        f"{crypto.MIN_MEMLIMIT} to {mem} bytes on this server")
    elif (_decoded_length(sealed["salt"]) != crypto.SALT_BYTES
          or _decoded_length(sealed["sealed"])
          != crypto.SEALED_OVERHEAD + crypto.KEY_BYTES):
        problems.append(f"identityKey: salt must be {crypto.SALT_BYTES} bytes and "
                        f"sealed {crypto.SEALED_OVERHEAD + crypto.KEY_BYTES}, base64")
    if problems:
        raise InvalidArchive(problems)


def _decoded_length(text: Any) -> int | None:
    if not isinstance(text, str) or len(text) > 1024:
        return None
    try:
        return len(_b64d(text))
    except ValueError:
        return None


def _open_seed(sealed: dict, passphrase: str, derivation: KeyDerivation) -> bytes:
    try:
        key = derivation.derive(passphrase, _b64d(sealed["salt"]), sealed["opslimit"],
                                sealed["memlimit"], sealed.get("normalise"))
        seed = crypto.open_sealed(key, _b64d(sealed["sealed"]), _KEY_AD)
    except (DecryptionFailed, ValueError, KeyError, TypeError) as exc:
        raise UnlockFailed() from exc
    if len(seed) != crypto.KEY_BYTES:
        raise UnlockFailed()
    return seed


def _check_structure(archive: Any) -> None:
    if not isinstance(archive, dict):
        raise InvalidArchive(["the archive must be a JSON object"])
    problems = [f"unknown member {name}"
                for name in sorted(set(archive) - _MEMBERS - _OPTIONAL)]
    problems += [f"{name} is missing" for name in sorted(_MEMBERS - set(archive))]
    if problems:
        raise InvalidArchive(problems)
    if archive["type"] != ARCHIVE_TYPE or archive["@context"] != CONTEXT:
        problems.append(f"type must be {ARCHIVE_TYPE} with the pod export context")
    if not isinstance(archive["holder"], str):
        problems.append("holder must be a did:key")
    sequence = archive["sequence"]
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        problems.append("sequence must be a non-negative integer")
    problems += _history_problems(archive["history"])
    problems += _grant_problems(archive["grants"])
    if not isinstance(archive["accessLog"], list) or not all(
            isinstance(entry, dict) for entry in archive["accessLog"]):
        problems.append("accessLog must be a list of entries (objects)")
    if not isinstance(archive["identityKey"], dict):
        problems.append("identityKey must be an object")
    problems += _binary_problems(archive.get("binaries", []))
    if problems:
        raise InvalidArchive(problems)


def _check_grants(records: list[dict], holder: str, now: datetime) -> None:
    """Each grant the holder's, each recorded once (a second record of one grant
    would stay live when the first is withdrawn), and no more live ones than a
    pod may hold."""
    parsed, seen = [], set()
    for record in records:
        try:
            grant = grant_from_json(record["grant"])
        except ConsentError as exc:
            raise InvalidArchive(["a grant in the archive does not verify"]) from exc
        if grant.holder != holder:
            raise InvalidArchive(["a grant in the archive belongs to another holder"])
        if grant.id in seen:
            raise InvalidArchive([f"grant {grant.id} appears twice"])
        seen.add(grant.id)
        parsed.append(GrantRecord(grant, record["withdrawn"], record.get("pending"),
                                  record.get("publishing"), record.get("renewedBy")))
    live = sum(1 for r in parsed if limits.counts_as_live(r, now))
    if live > limits.MAX_LIVE_GRANTS:
        raise InvalidArchive([f"a pod holds at most {limits.MAX_LIVE_GRANTS} live "
                              "grants (neither withdrawn nor ended)"])


def _grant_problems(records: Any) -> list[str]:
    """Grant records as a pod keeps them, at most as many as a pod may hold."""
    if not isinstance(records, list) or not all(
            isinstance(g, dict) and isinstance(g.get("grant"), dict)
            for g in records):
        return ["grants must be a list of grant records"]
    if len(records) > limits.MAX_GRANT_RECORDS:
        return [f"a pod holds at most {limits.MAX_GRANT_RECORDS} grant records"]
    for record in records:
        if (not _GRANT_MEMBERS[0] <= set(record) <= _GRANT_MEMBERS[1]
                or not all(_is_time_or_none(record.get(m)) for m in _GRANT_TIMES)
                or not _is_grant_id_or_none(record.get("renewedBy"))):
            return ["each grant record must have grant and withdrawn, and may have "
                    "pending and publishing, each time an RFC 3339 timestamp or null, "
                    "and renewedBy, a grant id"]
    return []


def _is_grant_id_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and 0 < len(value) <= 200)


def _is_time_or_none(value: Any) -> bool:
    if value is None:
        return True
    try:
        parse_time(value, "time")
    except ConsentError:
        return False
    return True


def _history_problems(history: Any) -> list[str]:
    if not isinstance(history, list):
        return ["history must be a list"]
    expected = 1
    for entry in history:
        if (not isinstance(entry, dict) or entry.get("version") != expected
                or not isinstance(entry.get("saved"), str)
                or not isinstance(entry.get("document"), dict)):
            return [f"history entry {expected} must be version {expected} with saved "
                    "and document"]
        expected += 1
    return []


def _binary_problems(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return ["binaries must be a list"]
    if len(entries) > limits.MAX_BINARIES:
        return [f"a pod holds at most {limits.MAX_BINARIES} files"]
    names, total = set(), 0
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != _BINARY_MEMBERS:
            members = ", ".join(sorted(_BINARY_MEMBERS))
            return [f"each binary must have exactly {members}"]
        try:
            name = check_name(entry["name"])
        except InvalidName:
            return [f"binary name {str(entry['name'])[:120]!r} is not a valid name"]
        if name in names:
            return [f"binary {name} appears twice"]
        names.add(name)
        media_type = entry["mediaType"]
        if not (isinstance(media_type, str) and 0 < len(media_type) <= 127
                and isinstance(entry["saved"], str) and len(entry["saved"]) <= 40
                and isinstance(entry["content"], str)):
            return [f"binary {name} must have a media type, saved time and content"]
        try:
            size = len(base64.b64decode(entry["content"], validate=True))
        except ValueError:
            return [f"the content of binary {name} must be base64"]
        if entry["size"] != size:
            return [f"binary {name} must be {entry['size']} bytes as its size says"]
        total += size
    if total > limits.MAX_BINARY_TOTAL:
        return [f"a pod holds at most {limits.MAX_BINARY_TOTAL} bytes of files"]
    return []


def _check_bounds(value: Any) -> None:
    count, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            raise InvalidArchive([TOO_DEEP])
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
