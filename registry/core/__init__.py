"""Shared building blocks: base mixins, column types, errors, access control and the unit of work."""
