"""The name under which one organisation knows a holder.

The registry keeps one pseudonym per holder (``pseudonym_for``) in its tables and in
the audit log. Shown as it is, that pseudonym would be the same for every
organisation, so two organisations that each received different consented fields of
one person could join them on it (GDPR art. 5(1)(b) and (c), art. 25(2)). What an
organisation sees, and sends back, is therefore its own pseudonym of the holder: the
registry's pseudonym encrypted with a key of that organisation alone.

The encryption is deterministic and authenticated (AES-SIV, RFC 5297, with 512-bit
keys derived per organisation from the deployment's pseudonym secret by HKDF,
RFC 5869): the same holder has the same name on every page of one organisation, the
name turns back into the registry's pseudonym without a table, and a name made for
another organisation (or mistyped, or invented) fails to decrypt. Such a name is
answered as an unknown person, with no hint that it belongs to someone elsewhere.

A name is the 32 bytes of the SIV and the ciphertext, written in lower-case base32
without padding (RFC 4648 section 6): 52 characters from a-z and 2-7, safe in a path.

A grant id is the same kind of thread: one grant to all municipalities reaches each
of them under the same id, so a municipal DPO's access log names each grant by a
name of that organisation alone (``grant_name``): HMAC-SHA256 under another key
derived per organisation, 128 bits in lower-case base32 after ``grant-``. The DPO
still sees which entries rest on one grant; nothing turns it back, as nothing
takes a grant's name as input.

An intro video's address is a thread too: the copy shared under one grant has one
share id (consent/video_share.py), and every organisation in the grant's audience
would be shown it. Each organisation is therefore shown its own address for the
copy (``video_name``): the share id sealed like a holder's name, under a third key
of that organisation, and opened again when it asks for the video (``video_share``).
An address shown to another organisation, the bare share id, or anything else that
does not open under the asker's key is one unknown video.

Ties are a thread as well: candidates of equal score, colleagues with as many
skills, fellow members of a group, listed in the order of the registry's pseudonym,
come in the same order to every organisation. Each organisation's ties are
therefore ordered by ``tie_keys``: the pseudonym enciphered as one AES-256 block
under a fourth key of that organisation, a pseudorandom permutation of its own.
The order is stable for that organisation (its cursors stay keyset positions) and
unrelated between organisations; many blocks go through one call, so a tie of a
hundred thousand candidates costs about a millisecond, not one HMAC each.

``freelance`` gets no key. It is the requesting organisation of every holder
without an attested employer (peers.py), so a key of that name would be one key
for all of them: one name of a colleague, one address of a video, one order of
ties, the thread this module exists to cut. It is no organisation either: no
grant's audience contains it (consent/audience.py), so nobody is ever shown to
it, and asking for its key is a mistake of the caller (ValueError).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable
from functools import lru_cache

from .errors_work import CandidateNotFound, InvalidWorkInput

NAME_LENGTH = 52
NAME = re.compile(r"[a-zA-Z2-7]{52}")
NAME_MUST = ("subject must be 52 characters a-z and 2-7, as your organisation was "
             "shown it")
_INFO = b"vg organisation pseudonym v1\x00"
_GRANT_INFO = b"vg organisation grant name v1\x00"
_VIDEO_INFO = b"vg organisation video address v1\x00"
_TIE_INFO = b"vg organisation tie order v1\x00"
TIE_KEY_BYTES = 16
_KEYS_KEPT = 4096  # organisations whose cipher stays ready (a few hundred exist)
# The requesting organisation of a holder who works for no attested organisation.
FREELANCE = "freelance"


class OrgPseudonyms:
    """Turns the registry's pseudonym into an organisation's and back."""

    def __init__(self, secret: bytes):
        self._cipher = lru_cache(maxsize=_KEYS_KEPT)(
            lambda organisation: _aes_siv(_derive(secret, organisation)))
        self._grant_key = lru_cache(maxsize=_KEYS_KEPT)(
            lambda organisation: _derive(secret, organisation, _GRANT_INFO)[:32])
        self._video_cipher = lru_cache(maxsize=_KEYS_KEPT)(
            lambda organisation: _aes_siv(_derive(secret, organisation, _VIDEO_INFO)))
        self._tie_cipher = lru_cache(maxsize=_KEYS_KEPT)(
            lambda organisation: _aes_block(
                _derive(secret, organisation, _TIE_INFO)[:32]))

    def tie_keys(self, organisation: str, pseudonyms: bytes) -> bytes:
        """``organisation``'s tie keys of the registry's pseudonyms ``pseudonyms``
        (each 16 bytes, one after the other): 16 bytes each, in the same order.
        Ties are listed by these keys, ascending, for that organisation."""
        if len(pseudonyms) % TIE_KEY_BYTES:
            raise ValueError("pseudonyms are 16 bytes each")
        encryptor = self._tie_cipher(organisation).encryptor()
        return encryptor.update(pseudonyms) + encryptor.finalize()

    def tie_key(self, organisation: str, pseudonym: str) -> bytes:
        """The tie key of one pseudonym (32 hexadecimal digits)."""
        return self.tie_keys(organisation, bytes.fromhex(pseudonym))

    def grant_name(self, organisation: str, grant_id: str) -> str:
        """The name ``organisation`` is shown the grant ``grant_id`` by."""
        digest = hmac.digest(self._grant_key(organisation), grant_id.encode("utf-8"),
                             "sha256")[:16]
        return "grant-" + base64.b32encode(digest).decode("ascii").rstrip("=").lower()

    def shown(self, organisation: str, pseudonym: str) -> str:
        """The name ``organisation`` knows the holder with ``pseudonym`` by."""
        return _sealed(self._cipher(organisation), pseudonym)

    def video_name(self, organisation: str, share: str) -> str:
        """The name of the video copy ``share`` in ``organisation``'s address."""
        return _sealed(self._video_cipher(organisation), share)

    def video_share(self, organisation: str, name: object) -> str | None:
        """The share id ``organisation``'s video address ``name`` names; None for
        anything that is not one of its own addresses."""
        return _opened(self._video_cipher(organisation), name)

    def named(self, organisation: str, name: str,
              unknown: Callable[[str], Exception] = CandidateNotFound) -> str:
        """The registry's pseudonym of the holder ``organisation`` calls ``name``.
        A name that is not written as one is the caller's mistake (400); one that
        does not decrypt under this organisation's key raises ``unknown(name)``, the
        answer the caller gives to a person it does not know."""
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InvalidWorkInput([NAME_MUST])
        opened = _opened(self._cipher(organisation), name)
        if opened is None:
            raise unknown(name)
        return opened


def is_name(text: object) -> bool:
    """Whether ``text`` is written as an organisation's name of a holder."""
    return isinstance(text, str) and NAME.fullmatch(text) is not None


def _sealed(cipher, hex_id: str) -> str:
    sealed = cipher.encrypt(bytes.fromhex(hex_id), None)
    return base64.b32encode(sealed).decode("ascii").rstrip("=").lower()


def _opened(cipher, name: object) -> str | None:
    """The hexadecimal id ``name`` seals under ``cipher``; None when it is not
    written as a name or does not open."""
    if not is_name(name):
        return None
    from cryptography.exceptions import InvalidTag

    spelled = name.upper()
    try:
        sealed = base64.b32decode(spelled + "====")
        if base64.b32encode(sealed).decode("ascii") != spelled + "====":
            return None  # unused low bits set: one spelling per name
        return cipher.decrypt(sealed, None).hex()
    except (InvalidTag, binascii.Error, ValueError):
        return None


def _aes_siv(key: bytes):
    # Imported on first use: a worker that never answers an organisation (one that
    # only streams binaries, say) does not load the library (tests/vg/test_wiring.py).
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    return AESSIV(key)


def _aes_block(key: bytes):
    """AES-256 on single blocks (ECB): every block is a distinct pseudonym, so
    this is the block cipher itself as a keyed permutation, nothing chained."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(key), modes.ECB())


def _derive(secret: bytes, organisation: str, info: bytes = _INFO) -> bytes:
    if organisation == FREELANCE:
        raise ValueError("freelance is no organisation: it has no key")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=64, salt=None,
                info=info + organisation.encode("utf-8")).derive(secret)
