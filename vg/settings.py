"""The one settings object, read from ``VG_*`` environment variables (or a .env file).

Secrets (the session key, the pseudonym key) are read from files in the data
directory, created on first use with mode 0600: never from code, never logged.
Outside development, a Argon2id cost below MODERATE is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_reference_dir() -> Path:
    """``../shared/data`` next to the checkout, where the reference data is kept."""
    return (REPO_ROOT.parent / "shared" / "data").resolve()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VG_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default=REPO_ROOT / "var")
    reference_dir: Path = Field(default_factory=default_reference_dir)
    database_url: str | None = None
    audit_database_url: str | None = None
    audit_origin: str = Field(default="localhost/virtuele-gemeente/auditlog",
                              pattern=r"^[^\s+\u2014]{1,200}$")
    audit_retention_days: int = Field(default=730, ge=1, le=36500)
    kdf_level: Literal["interactive", "moderate"] = "moderate"
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The address clients reach the server at (behind a proxy: its public one). The
    # pod's linked-data ids are built from it, never from a request's Host header.
    public_url: str | None = Field(default=None,
                                   pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$")

    @model_validator(mode="after")
    def _refuse_insecure(self) -> "Settings":
        if self.environment == "production" and self.kdf_level != "moderate":
            raise ValueError("kdf_level must be 'moderate' in production")
        return self

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
