"""治庸问责 accountability campaigns (seed 003, DOMAIN.md §2)."""
from __future__ import annotations

from . import records  # noqa: F401  (registers the tables on Base.metadata)
