"""
The documentation's links: every relative link of the README and of docs/
names a file that exists and, with a #fragment, a heading of that file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives C{heading}, as GitHub makes it."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of C{page}'s headings, outside code blocks."""
    text = FENCE.sub("", page.read_text())
    return {slug(heading) for heading in HEADING.findall(text)}


def links(page: Path) -> list[str]:
    """C{page}'s links that lead within the repository, outside code blocks."""
    text = FENCE.sub("", page.read_text())
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
    ]


def test_slug() -> None:
    """Anchors are made as renderers make them: lower case, no punctuation."""
    assert slug("Limits: slow readers, floods, storms") == (
        "limits-slow-readers-floods-storms"
    )
    assert slug("`mini_serv PORT`") == "mini_serv-port"
    assert slug("The door's defences") == "the-doors-defences"


def test_links_found() -> None:
    """The check sees the README's links to docs/, so it checks something."""
    found = links(ROOT / "README.md")
    assert "docs/protocol.md" in found
    assert "docs/browser.png" in found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_resolve(page: Path) -> None:
    """Every relative link of C{page} names a file that exists, and a heading in it."""
    broken = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            broken.append(f"{target}: no heading #{fragment}")
    assert broken == []
