"""Demo data and the one-command demo: realistic synthetic people and registrations for the region."""
