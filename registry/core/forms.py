"""Helpers shared by every domain's forms and views."""
from datetime import date

from flask import flash
from wtforms.fields import DateField

from registry.core.errors import ValidationFailed
from registry.extensions import db


def show_errors(form, error):
    """Put a refused operation's messages next to the fields they concern, and roll back its session."""
    db.session.rollback()
    if isinstance(error, ValidationFailed):
        for name, messages in error.errors.items():
            target = getattr(form, name, None)
            if target is not None and hasattr(target, "errors"):
                target.errors = list(target.errors) + list(messages)
            else:
                for message in messages:
                    flash(message, "error")
    elif error.field and getattr(form, error.field, None) is not None:
        field = getattr(form, error.field)
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def fill_from(target, form, names):
    """Copy the named form fields' data onto a dataclass."""
    for name in names:
        setattr(target, name, getattr(form, name).data)
    return target


class StrictDateField(DateField):
    """An HTML date input whose error says what was wrong, e.g. 2001-02-30 does not exist."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            self.data = date.fromisoformat(text)
        except ValueError:
            self.data = None
            raise ValueError(f"{text!r} is not a date that exists; enter it as YYYY-MM-DD.") from None


def code_list(text):
    """'7112, 8322 9211' -> ['7112', '8322', '9211']"""
    return [part for part in (text or "").replace(",", " ").split() if part]
