from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.models import SyncMixin
from registry.extensions import db

OFFICE_KINDS = {
    "border_post": "Border post",
    "district_office": "District labour office",
    "head_office": "Head office",
}


class Office(SyncMixin, db.Model):
    __tablename__ = "office"

    code: Mapped[str] = mapped_column(String(8), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)  # ISO 3166-1 alpha-2
    subdivision: Mapped[str | None] = mapped_column(String(6))  # ISO 3166-2
    address: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    default_destination: Mapped[str | None] = mapped_column(String(2))  # pre-selected on the form
    # Printed on registration slips: their second language (registry.slips.labels.LANGUAGES) and where to get help.
    slip_language: Mapped[str | None] = mapped_column(String(5))
    helpline: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self):
        return f"<Office {self.code} {self.name!r}>"
