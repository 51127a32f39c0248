"""The intro videos holders share with the registry under a grant.

A row is one copy: the grant it rests on, the holder, and the copy's data key sealed
to the registry's key. The ciphertext lives in a file named for the share id
(video_shares.py); without the row's sealed key it opens for no one, so deleting the
row ends every way to the video at once, and the file goes after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary
from sqlmodel import Column, Field, SQLModel

from .holder_columns import NAMES_DID


class VideoShare(SQLModel, table=True):
    __tablename__ = "video_share"
    share_id: str = Field(primary_key=True, max_length=32)
    grant_id: str = Field(index=True, max_length=200)
    holder_did: str = Field(index=True, max_length=80,
                            sa_column_kwargs={"info": NAMES_DID})
    media_type: str = Field(max_length=40)
    size: int = Field(sa_type=BigInteger)
    sealed_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    prefix: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received: datetime
