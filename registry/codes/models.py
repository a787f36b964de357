from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import SyncMixin
from registry.extensions import db


class IscoGroup(SyncMixin, db.Model):
    """One ISCO-08 group at any of its four levels. Loaded by the first migration; head office may
    refresh titles from the official file (`flask codes import-isco`), and the refresh syncs."""

    __tablename__ = "isco_group"

    code: Mapped[str] = mapped_column(String(4), nullable=False, unique=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)

    @property
    def parent_code(self):
        return self.code[:-1] or None

    def __repr__(self):
        return f"<IscoGroup {self.code} {self.title!r}>"
