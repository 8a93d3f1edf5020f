"""Fixtures of the delivery tests (standin.py): `compiled`, `resources`, `standin`."""

from standin import compiled, resources, standin  # noqa: F401
