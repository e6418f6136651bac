"""The text the firm search box matches: current name, former names and USCC, lower-cased."""

from __future__ import annotations

from collections.abc import Iterable


def search_text_for(name: str, former_names: Iterable[str], uscc: str) -> str:
    parts = [name, *former_names, uscc]
    return " | ".join(p.strip().lower() for p in parts if p and p.strip())
