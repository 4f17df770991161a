"""Matching a professional's legal name as written in different sources."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def professional_key(name: str) -> str:
    """Case, accents' composition and spacing do not make another legal entity: "ACME  énergie sas" = "ACME Énergie SAS"."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())
