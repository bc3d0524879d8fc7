"""Test-wide settings: tests assert behaviour, never wall-clock time, so hypothesis runs with no
per-example deadline (on the shared 2-core CI machines an example can take any time)."""

from hypothesis import settings

settings.register_profile("snngen", deadline=None)
settings.load_profile("snngen")
