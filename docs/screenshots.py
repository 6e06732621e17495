"""
Makes the screenshots of the page in this directory: a session with two
TCP clients and a browser, at a laptop's size and a phone's, in the light
and the dark scheme.

Run from the repository root, with Debian's chromium installed:

    .venv/bin/python docs/screenshots.py

It writes C{docs/page-desktop-light.png}, C{page-desktop-dark.png},
C{page-phone-light.png} and C{page-phone-dark.png}.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import CHROMIUM  # noqa: E402
from tests.support.browser import DESKTOP, PHONE, Tab  # noqa: E402
from tests.support.live import Client, Server, freePort  # noqa: E402

DOCS = Path(__file__).resolve().parent

SIZES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ("light", "dark")


def session(server: Server, tab: Tab) -> None:
    """A short conversation: names, lines, a link, an action, a private message."""
    tab.expectLast("1 client: client 0")
    alice = Client(server.port)
    tab.expectLast("client 1 just arrived")
    bob = Client(server.port)
    tab.expectLast("client 2 just arrived")
    server.clients = [alice, bob]
    alice.send(b"/nick alice\n")
    tab.expectLast("client 1 is now alice")
    bob.send(b"/nick bob\n")
    tab.expectLast("client 2 is now bob")
    tab.say("/nick carol")
    expect(tab.page.locator("#people")).to_contain_text("carol")
    alice.send(b"hello carol, welcome!\n")
    bob.send(b"the notes are at https://example.org/notes\n")
    tab.say("thanks, reading them now")
    alice.send(b"/me waves\n")
    bob.send(b"/msg carol lunch at noon?\n")
    tab.expectLast("bob (private): lunch at noon?")


def main() -> None:
    if CHROMIUM is None:
        raise SystemExit("screenshots: chromium is not installed")
    port = freePort()
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for size, viewport in SIZES.items():
            for scheme in SCHEMES:
                place = Path(directory) / f"{size}-{scheme}"
                place.mkdir()
                server = Server(
                    place,
                    "--web",
                    f"tcp:{port}:interface=127.0.0.1",
                    "--commands",
                    "--history",
                    "20",
                )
                try:
                    tab = Tab(browser, port, scheme, viewport)  # type: ignore[arg-type]
                    session(server, tab)
                    path = DOCS / f"page-{size}-{scheme}.png"
                    tab.page.screenshot(path=str(path))
                    tab.page.close()
                    print(path.name)
                finally:
                    server.stop()
                    server.kill()
        browser.close()


if __name__ == "__main__":
    main()
