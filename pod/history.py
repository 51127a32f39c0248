"""The history index: the manifest entries of older versions, sealed in segments.

Every read and every commit decrypts, parses, serialises and seals the whole state,
so the state names only the newest FOLD versions; older entries move into sealed
segments that the state names by range and digest. Segments are appended to one
file, written and flushed like the version log (versionlog.py), in the same round
as the state slot::

    versions/index.bin   segment | segment | ... | zeros up to the file's end

A segment of up to FOLD entries is of level 0; one of up to FOLD * MERGE**L entries
is of level L. When MERGE segments of one level stand at the end of the list, the
commit that adds the last of them merges them into one of the next level. The state
therefore names at most MERGE - 1 segments per level, a few dozen for a million
versions, where a segment per FOLD versions would grow the state with the history
(and every read and write with it). Each entry is sealed again once per level,
which costs a commit little next to sealing the whole history each time.

A merged segment's bytes stay in the file, unnamed, like the bytes a crashed commit
left after ``indexEnd``, which the next commit writes over. The state names the
range a commit appended with its digest (``indexTail``), so a state whose segment
did not reach the disk is passed over for the previous one, as with the log.

Pods written before the index keep their segment files
(``versions/segment-NNNNNN.bin``), each named by a segment without ``index``; they
are read as before and never merged. Their entries beyond FOLD fold into the index
on the pod's next commit, which is an ordinary, crash-safe commit.
"""

from __future__ import annotations

import json
from typing import Callable

from . import crypto

FOLD = 16
MERGE = 4
NAME = "index.bin"

Sealer = Callable[[bytes, int, int], bytes]
Reader = Callable[[dict], list]


def level(count: int) -> int:
    """The level of a segment of ``count`` entries."""
    found, capacity = 0, FOLD
    while count > capacity:
        found, capacity = found + 1, capacity * MERGE
    return found


def fold(state: dict, start: int, read: Reader, seal: Sealer) -> bytes:
    """Move all but the newest entry out of ``state`` once it names more than FOLD,
    merging segments as the levels fill up (caller holds the pod lock). Returns the
    sealed segment to append to the index at ``start`` (the state's ``indexEnd``),
    or nothing. Segments merged away are read with ``read``."""
    if len(state["versions"]) <= FOLD:
        return b""
    entries, state["versions"] = state["versions"][:-1], state["versions"][-1:]
    segments = state.setdefault("segments", [])
    while len(segments) >= MERGE - 1:
        tail = segments[-(MERGE - 1):]
        if not all("index" in s and level(count(s)) == level(len(entries))
                   for s in tail):
            break
        entries = [entry for segment in tail for entry in read(segment)] + entries
        del segments[-(MERGE - 1):]
    first, last = entries[0]["version"], entries[-1]["version"]
    blob = seal(json.dumps(entries).encode("utf-8"), first, last)
    digest = crypto.digest(blob)
    segments.append({"first": first, "last": last, "digest": digest, "index": start,
                     "length": len(blob)})
    state["indexEnd"] = start + len(blob)
    state["indexTail"] = {"start": start, "digest": digest}
    return blob


def count(segment: dict) -> int:
    return int(segment["last"]) - int(segment["first"]) + 1
