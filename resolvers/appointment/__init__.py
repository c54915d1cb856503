"""Appointment checks: whether discipline bars appointing a person on a day, across the
national database and the agency HR systems (``rules``: the pure rules; ``reads``: what a
check reads, batched; ``check``: one check put together). The GraphQL types are in
``resolvers/types/appointment.py``."""
