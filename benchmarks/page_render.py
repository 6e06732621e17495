"""
How quickly the page shows many lines: a TCP client sends 10 000 short
lines at once, and the page, in Debian's chromium driven by Playwright,
notes when each line arrives (a WebSocket message) and when the first and
the last of them is in its log and laid out.

Run from the repository root with the environment's Python:

    .venv/bin/python benchmarks/page_render.py [--runs 5] [--lines 10000] [--chat]

Each run opens the page in a new tab of one browser against one server;
the figures are the median and the range of the runs, in milliseconds:
from the first line shown to the last; how long the lines took to arrive,
first to last (the server's relaying and the browser's WebSocket); and the
page's own lag, from the last line's arrival to its being shown.

With C{--chat} the server is in chat mode (C{--commands}): the page is sent
messages (C{chat.json}), many in a frame, rather than a line a frame; the
arrivals are then those of the frames that carried the lines.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

BIN = Path(sys.executable).parent

ARRIVALS = """
const Opened = WebSocket;
window.arrivals = [];
window.WebSocket = function (...how) {
  const socket = new Opened(...how);
  socket.addEventListener("message", () => window.arrivals.push(performance.now()));
  return socket;
};
window.WebSocket.OPEN = Opened.OPEN;
"""
"""Notes when every message arrives, before the page handles it."""

WATCH = """(count) => { window.shown = new Promise((done) => {
  const log = document.getElementById("log");
  const list = log.querySelector("ol") || log;  // the lines, in one list
  let first = null;
  new MutationObserver(() => {
    const last = list.lastElementChild;
    if (last === null || !last.textContent.includes(": line ")) return;
    if (first === null) first = performance.now();
    if (last.textContent.endsWith(": line " + (count - 1))) {
      log.getBoundingClientRect();  // laid out, as it is before it is painted
      const shown = performance.now();
      const frames = window.arrivals.slice(window.before);
      const last = frames[frames.length - 1];
      done([shown - first, last - frames[0], shown - last]);
    }
  }).observe(list, {childList: true});
}); }"""


def freePort() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connected(port: int) -> socket.socket:
    end = time.monotonic() + 20
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=20)
        except ConnectionRefusedError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def once(page: Page, port: int, webPort: int, lines: int) -> list[float]:
    """One run: shown first to last, arrived first to last, lag (ms)."""
    page.goto(f"http://127.0.0.1:{webPort}/")
    page.wait_for_selector("#state[data-state=open]")
    sender = connected(port)
    try:
        page.evaluate("window.before = window.arrivals.length")
        page.evaluate(WATCH, lines)
        sender.sendall(b"".join(b"line %d\n" % number for number in range(lines)))
        return [float(ms) for ms in page.evaluate("window.shown")]
    finally:
        sender.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--chat", action="store_true", help="chat mode (--commands)")
    options = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    port, webPort = freePort(), freePort()
    with tempfile.TemporaryDirectory() as directory:
        server = subprocess.Popen(
            [str(BIN / "twistd"), "-n", "--pidfile=", "chat"]
            + ["--port", str(port), "--web", f"tcp:{webPort}:interface=127.0.0.1"]
            + ["--log-level", "warn", "--logfile", str(Path(directory) / "log")]
            + (["--commands"] if options.chat else []),
            cwd=directory,
            stdout=subprocess.DEVNULL,
        )
        try:
            connected(port).close()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, args=["--no-sandbox"]
                )
                times: list[list[float]] = []
                for _ in range(options.runs):
                    page = browser.new_page()
                    page.set_default_timeout(600_000)
                    page.add_init_script(ARRIVALS)
                    times.append(once(page, port, webPort, options.lines))
                    page.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(20)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    mode = "chat mode, messages" if options.chat else "a line a frame"
    print(f"{options.lines} lines, {options.runs} runs, {mode} (ms):")
    names = ["shown, first to last", "arrived, first to last", "last arrived to shown"]
    for name, figures in zip(names, zip(*times, strict=True), strict=True):
        print(
            f"  {name:24} median {statistics.median(figures):6.0f}"
            f"  (min {min(figures):.0f}, max {max(figures):.0f})"
        )


if __name__ == "__main__":
    main()
