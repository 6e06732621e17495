"""
Where the checkout's files are, for the tests that read them.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: the folder of C{pyproject.toml}."""
