"""Domain errors: raised by services, shown to the user next to the field or at the top of the page."""


class DomainError(Exception):
    """A rule of the registry refused the operation; nothing was saved."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def messages(self):
        return [self.message]


class NotFound(DomainError):
    pass


class Forbidden(DomainError):
    pass


class StaleVersion(DomainError):
    """Someone else changed the record since the form was opened."""


class ValidationFailed(DomainError):
    """One or more fields are invalid; `errors` maps field name to a list of messages."""

    def __init__(self, errors):
        self.errors = errors
        first = next(iter(errors.items()))
        super().__init__(f"{first[0]}: {first[1][0]}", field=first[0])

    @property
    def messages(self):
        return [message for messages in self.errors.values() for message in messages]
