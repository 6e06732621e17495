"""
Accounts (C{--auth}) in a real browser: the page as another session of an
account logged in over TCP.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.support.accounts import chatPasswd, login
from tests.support.browser import BROWSER_TESTS, Tab
from tests.support.live import StartServer
from tests.support.webclient import WEB, webPort

pytestmark = BROWSER_TESTS


def test_pageIsAnotherSessionOfTheAccount(
    startServer: StartServer, browser: Browser, tmp_path: Path
) -> None:
    """
    Alice on TCP, bob watching; the page logs in as alice too: bob is told
    nothing, the page's lines are alice's for bob and for her TCP session,
    hers reach the page, and the page never shows the login prompt.
    """
    users = tmp_path / "users"
    assert chatPasswd(users, "alice", "open sesame").returncode == 0
    assert chatPasswd(users, "bob", "builder").returncode == 0
    server = startServer(*WEB, "--auth", str(users))
    alice = login(server.port, b"alice", b"open sesame")
    alice.send(b"/who\n")  # in, before bob's login is checked
    alice.expect(b"server: 1 client: alice\n")
    bob = login(server.port, b"bob", b"builder")
    alice.expect(b"server: client 1 just arrived\nserver: client 1 is now bob\n")
    tab = Tab(browser, webPort(server))
    tab.logIn("alice", "open sesame")
    expect(tab.page.locator("#me")).to_have_text("you are alice")
    tab.expectPeople("alice (you)", "bob")
    tab.say("from the browser")
    bob.expect(b"alice: from the browser\n")  # nothing came before it
    alice.expect(b"alice: from the browser\n")
    alice.send(b"from the terminal\n")
    tab.expectLast("alice: from the terminal")
    bob.expect(b"alice: from the terminal\n")
    assert not any("log in with" in text for text in tab.shown())
    assert tab.errors == []
