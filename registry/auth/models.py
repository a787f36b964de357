from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import SyncMixin
from registry.core.types import UTCDateTime
from registry.extensions import db


class User(UserMixin, SyncMixin, db.Model):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    office_code: Mapped[str] = mapped_column(String(8), ForeignKey("office.code"), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped when the password changes or the account is disabled, so other sessions of the user end.
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    @property
    def is_active(self):
        return self.active and not self.is_deleted

    def get_id(self):
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self):
        return f"<User {self.username} {self.role}@{self.office_code}>"


class LoginThrottle(db.Model):
    """Failed logins per username at this node (any name typed, known or not). Local: never synced,
    so a lockout at one border post does not travel, and guessing at one node is counted there."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
