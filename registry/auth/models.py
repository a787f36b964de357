import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Uuid, false
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
    # Logging in also needs a code from an authenticator app (set up at head office; registry.auth.second_factor).
    second_factor_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                         server_default=false())

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


class SecondFactor(db.Model):
    """A user's authenticator-app (TOTP, RFC 6238) secret at head office. Local: never synced, so the
    secret stays on the one server that checks it; offices learn only `User.second_factor_required`."""

    __tablename__ = "user_second_factor"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64), nullable=False)  # base32
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The last 30-second step whose code was accepted: a code works once (no replay).
    last_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
