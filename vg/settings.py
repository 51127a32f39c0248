"""The one settings object, read from ``VG_*`` environment variables (or a .env file).

Secrets (the session key, the pseudonym key) are read from files in the data
directory, created on first use with mode 0600: never from code, never logged.
Outside development, a Argon2id cost below MODERATE is refused.

A wrong value is ``SettingsInvalid``: one line naming the variable, what is wrong
with it and what it may be (never the value itself, which may hold a database
password), for the command line and the server to print as it is.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "VG_"
TRUSTED_PROXIES = "IP addresses or networks, separated by commas (empty: none)"
DATABASE_URL = "a SQLAlchemy database URL (sqlite:///... or postgresql+psycopg://...)"

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_reference_dir() -> Path:
    """``../shared/data`` next to the checkout, where the reference data is kept."""
    return (REPO_ROOT.parent / "shared" / "data").resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env",
                                      extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=REPO_ROOT / "var")
    reference_dir: Path = Field(default_factory=default_reference_dir)
    database_url: str | None = Field(default=None, description=DATABASE_URL)
    audit_database_url: str | None = Field(default=None, description=DATABASE_URL)
    audit_origin: str = Field(default="localhost/virtuele-gemeente/auditlog",
                              pattern=r"^[^\s+\u2014]{1,200}$", description=(
                                  "1 to 200 characters with no spaces, no + and no "
                                  "em dash"))
    audit_retention_days: int = Field(default=730, ge=1, le=36500)
    kdf_level: Literal["interactive", "moderate"] = "moderate"
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # How long a consent request waits for the pod's grant lock that another request
    # of the same pod holds, before it is answered 503 with Retry-After.
    grant_lock_seconds: int = Field(default=10, ge=1, le=300)
    host: str = Field(default="127.0.0.1", max_length=253,
                      description="a host name or an IP address")
    port: int = Field(default=8000, ge=1, le=65535)
    # The address clients reach the server at (behind a proxy: its public one). The
    # pod's linked-data ids are built from it, never from a request's Host header.
    public_url: str | None = Field(default=None,
                                   pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$",
                                   description="http:// or https:// with a host name "
                                               "and an optional port, no path")

    # What one client address may create without credentials (pod/creations.py,
    # ``Creations``): pods, and the holders, grants and withdrawals the registry
    # takes from any pod (a did:key costs nothing to make). The first
    # ``creations_free`` go at once; after them each one makes the next wait a
    # back-off doubling up to ``creations_longest_seconds``, until
    # ``creations_forget_seconds`` pass without one. 429 with Retry-After beyond.
    creations_free: int = Field(default=20, ge=1, le=1_000_000)
    creations_longest_seconds: int = Field(default=300, ge=1, le=86_400)
    creations_forget_seconds: int = Field(default=3600, ge=1, le=604_800)

    # The proxies whose X-Forwarded-For names the client (comma-separated IP
    # addresses or networks). None by default: a request's address is its peer's,
    # whatever header it sends, so a client can not choose the address the sign-in
    # limits count it under (pod/attempts.py).
    trusted_proxies: str = Field(default="", max_length=2000,
                                 description=TRUSTED_PROXIES)

    @model_validator(mode="after")
    def _check_proxies(self) -> "Settings":
        try:
            self.trusted_proxy_networks()
        except ValueError:
            raise SettingsInvalid("VG_TRUSTED_PROXIES", "is not a list of IP "
                                  "addresses or networks", TRUSTED_PROXIES) from None
        return self

    def trusted_proxy_networks(self) -> list[str]:
        """The trusted proxies, each an IP network (an address is a network of
        one); empty when none is trusted."""
        return [str(ipaddress.ip_network(part.strip(), strict=False))
                for part in self.trusted_proxies.split(",") if part.strip()]

    @model_validator(mode="after")
    def _refuse_insecure(self) -> "Settings":
        if self.environment == "production" and self.kdf_level != "moderate":
            raise SettingsInvalid("VG_KDF_LEVEL", "is below the production minimum "
                                  "(VG_ENVIRONMENT is production)", "moderate")
        return self

    @classmethod
    def allowed(cls, name: str) -> str:
        """What the setting ``name`` may be, in words."""
        return _allowed(cls.model_fields[name])

    def public_base(self) -> str:
        """The server's base URL, ending in a slash."""
        base = self.public_url or f"http://{self.host}:{self.port}"
        return base.rstrip("/") + "/"

    @property
    def pods_dir(self) -> Path:
        return self.data_dir / "pods"

    def registry_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'registry.sqlite'}"

    def audit_url(self) -> str:
        if self.audit_database_url:
            return self.audit_database_url
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'audit.sqlite'}"


class SettingsInvalid(ValueError):
    """A setting with a value it may not have: ``setting`` is the variable."""

    def __init__(self, setting: str, problem: str, allowed: str):
        super().__init__(f"{setting} {problem}; allowed: {allowed}")
        self.setting = setting
        self.problem = problem
        self.allowed = allowed


def load_settings(**given: Any) -> Settings:
    """``Settings`` from the environment and ``given``; a wrong value is
    ``SettingsInvalid`` (the first one, since one line is shown)."""
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> Exception:
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SettingsInvalid):
            return cause
        name = str(error["loc"][0]) if error.get("loc") else None
        if name in Settings.model_fields:
            problem = error.get("msg", "is not valid").replace("Input should", "should")
            return SettingsInvalid(ENV_PREFIX + name.upper(), f"is wrong ({problem})",
                                   Settings.allowed(name))
    return SettingsInvalid(ENV_PREFIX + "*", "is wrong", "see the README, Settings")


def _allowed(field) -> str:
    if field.description:
        return field.description
    kind = field.annotation
    if get_origin(kind) in (Union, UnionType):  # an optional setting
        kind = next(k for k in get_args(kind) if k is not type(None))
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(get_args(kind))
    if kind is int:
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        return f"a whole number from {low} to {high}"
    if kind is Path:
        return "a directory path"
    return "text"  # every such setting has a description (a test checks)
