"""
The twistd plugin is found, in the development install too; the wheel
carries it without a plugin cache, with the project's name, licence,
addresses and version; C{python -m chat} is the server.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins

import chat.app.tap
from tests.support.live import DEADLINE, TWISTD, Client, freePort, waitFor
from tests.support.paths import ROOT
from tests.support.tools import script


@pytest.mark.live
def test_pluginFoundByTwisted() -> None:
    """Twisted finds the C{chat} plugin, with the project's options."""
    makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
    assert "chat" in makers
    assert makers["chat"].options is chat.app.tap.Options


def _buildWheel(tmp_path: Path) -> tuple[Path, Path]:
    """
    Build the wheel of the tracked files (copied to C{tmp_path/source}, with
    a stale plugin cache added) in C{tmp_path}; return it and the copy.
    """
    source = tmp_path / "source"
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    # What any local run of twistd leaves behind must not be packaged.
    (source / "twisted" / "plugins" / "dropin.cache").write_bytes(b"stale")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    # Every file the wheel is to hold is declared: setuptools warns of none.
    assert "warning" not in output.lower(), output
    [wheel] = tmp_path.glob("txchat-*.whl")
    return wheel, source


@pytest.mark.live
def test_wheelHasThePluginAndNoDropinCache(tmp_path: Path) -> None:
    """
    A wheel built from the tracked files holds the twistd plugin, the
    cluster's Lua scripts and the page of --web, but no plugin cache and no
    C{__init__.py} of Twisted's packages; its metadata names the project,
    its licence and its addresses (home, documentation, changes); and
    setuptools builds it without a warning.
    """
    wheel, source = _buildWheel(tmp_path)
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    assert "twisted/plugins/chat_plugin.py" in names
    assert "chat/app/tap.py" in names
    assert "chat/web/page.html" in names
    scripts = sorted(
        path.relative_to(source).as_posix()
        for path in (source / "chat" / "cluster" / "lua").glob("*.lua")
    )
    assert "chat/cluster/lua/stream.lua" in scripts
    assert [name for name in names if name.endswith(".lua")] == scripts
    assert not [name for name in names if name.endswith("dropin.cache")]
    assert "twisted/__init__.py" not in names
    assert "twisted/plugins/__init__.py" not in names
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    assert "\nName: txchat\n" in text
    assert "\nLicense-Expression: MIT\n" in text
    assert re.findall(r"^Project-URL: (.*)$", text, re.MULTILINE) == [
        "Homepage, https://github.com/txchat/txchat",
        "Documentation, https://github.com/txchat/txchat/tree/main/docs",
        "Changelog, https://github.com/txchat/txchat/blob/main/CHANGELOG.md",
    ]
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


@pytest.mark.live
def test_miniServFromTheWheelIsTheScriptAndServes(tmp_path: Path) -> None:
    """
    The wheel carries C{mini_serv} as the project's own script (listening
    before it imports the package), not as a generated entry-point wrapper;
    installed from the wheel, it listens and relays.
    """
    wheel, _ = _buildWheel(tmp_path)
    archive = zipfile.ZipFile(wheel)
    [script] = [name for name in archive.namelist() if "/scripts/" in name]
    assert script.endswith(".data/scripts/mini_serv")
    assert archive.read(script).startswith(b"#!python\n")
    [entryPoints] = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    assert "mini_serv" not in archive.read(entryPoints).decode()
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index"]
        + ["--target", str(target), str(wheel)],
        capture_output=True,
        check=True,
    )
    installed = target / "bin" / "mini_serv"
    assert installed.read_bytes().startswith(f"#!{sys.executable}\n".encode())
    port = freePort()
    server = subprocess.Popen(
        [str(installed), str(port)],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(target)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        first = waitFor(lambda: _connected(port), "mini_serv to listen")
        second = Client(port)
        first.expect(b"server: client 1 just arrived\n")
        second.send(b"from the wheel\n")
        first.expect(b"client 1: from the wheel\n")
        log = tmp_path / "mini_serv.log"
        waitFor(
            lambda: log.exists() and "handover: " in log.read_text(), "the handover"
        )
        second.send(b"from the server of the wheel\n")
        first.expect(b"client 1: from the server of the wheel\n")
        assert "listening on tcp 127.0.0.1:" in log.read_text()
        server.send_signal(signal.SIGINT)
        assert server.wait(DEADLINE) == 0
    finally:
        server.kill()
        server.stderr.close()  # type: ignore[union-attr]


def _connected(port: int) -> Client | None:
    try:
        return Client(port)
    except ConnectionRefusedError:
        return None


BUILD_EDITABLE = (
    "import sys; from setuptools import build_meta;"
    " build_meta.build_editable(sys.argv[1])"
)


@pytest.mark.live
def test_developmentInstallIsAPathEntry(tmp_path: Path) -> None:
    """
    The editable install (setuptools' default mode, as C{make} asks for it)
    puts the project's directory on C{sys.path}, where Twisted looks for
    C{twisted/plugins}, rather than an import hook Twisted does not see.
    """
    subprocess.run(
        [sys.executable, "-c", BUILD_EDITABLE, str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("txchat-*.whl")
    archive = zipfile.ZipFile(wheel)
    [pth] = [name for name in archive.namelist() if name.endswith(".pth")]
    assert archive.read(pth).decode().split() == [str(ROOT)]
    assert "compat" not in (ROOT / "Makefile").read_text()


@pytest.mark.live
def test_twistdFindsThePluginFromAnyDirectory(tmp_path: Path) -> None:
    """C{twistd chat} works from any directory, not only the project's."""
    done = subprocess.run(
        [TWISTD, "chat", "--help"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "--max-clients" in done.stdout


@pytest.mark.live
@pytest.mark.parametrize(
    "command",
    [
        [TWISTD, "-n", "chat", "--version"],
        [sys.executable, "-m", "chat", "--version"],
        [script("chat-client"), "--version"],
    ],
    ids=["twistd", "python -m chat", "chat-client"],
)
def test_version(tmp_path: Path, command: list[str]) -> None:
    """
    C{--version} of the server, however it is run, and of C{chat-client}
    prints the installed version in one line, and writes no file.
    """
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    installed = importlib.metadata.version("txchat")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"txchat {installed}\n",
        "",
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.live
def test_pythonDashMChatIsTheServer(tmp_path: Path) -> None:
    """
    C{python -m chat} runs the server: it listens, relays, and stops cleanly
    on SIGINT.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "chat", "--port", "0"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = tmp_path / "mini_serv.log"
    try:
        found = waitFor(
            lambda: (
                log.exists()
                and re.search(r"listening on tcp 127\.0\.0\.1:(\d+)", log.read_text())
            ),
            "the server to listen",
        )
        first, second = Client(int(found.group(1))), Client(int(found.group(1)))
        first.expect(b"server: client 1 just arrived\n")
        second.send(b"via python -m chat\n")
        first.expect(b"client 1: via python -m chat\n")
        server.send_signal(signal.SIGINT)
        assert server.wait(DEADLINE) == 0
    finally:
        server.kill()
        server.stderr.close()  # type: ignore[union-attr]


def _dryRun(directory: Path, target: str) -> list[str]:
    """The commands C{make TARGET} would run in C{directory}, one a line."""
    done = subprocess.run(
        ["make", "--dry-run", target],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def _installs(commands: list[str]) -> list[str]:
    """What each C{pip install --editable} among C{commands} installs."""
    return [
        shlex.split(command)[-1]
        for command in commands
        if "pip install" in command and "--editable" in command
    ]


@pytest.mark.live
def test_makeRunInstallsTheServerAloneAndMakeTestAddsTheTestTools(
    tmp_path: Path,
) -> None:
    """
    C{make run} creates the environment with the package and its runtime
    dependencies only, not the test extra; C{make test} after it adds the
    test extra to that environment without creating it again; and on a
    fresh checkout C{make test} installs both.
    """
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    assert _installs(_dryRun(tmp_path, "test")) == [".", ".[test]"]
    run = _dryRun(tmp_path, "run")
    assert any("-m venv .venv" in command for command in run)
    assert _installs(run) == ["."]
    # What make run leaves: the environment and its stamp, newer than the
    # project's file.
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".runtime").touch()
    test = _dryRun(tmp_path, "test")
    assert not any("-m venv" in command for command in test)
    assert _installs(test) == [".[test]"]
    assert any(command.endswith("/pytest") for command in test)
