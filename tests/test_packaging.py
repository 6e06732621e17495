"""
The twistd plugin is found, and the wheel carries it without a plugin cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins

import chat.tap

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.live
def test_pluginFoundByTwisted() -> None:
    makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
    assert "chat" in makers
    assert makers["chat"].options is chat.tap.Options


@pytest.mark.live
def test_wheelHasThePluginAndNoDropinCache(tmp_path: Path) -> None:
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
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        + ["--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("chat-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "twisted/plugins/chat_plugin.py" in names
    assert "chat/tap.py" in names
    assert not [name for name in names if name.endswith("dropin.cache")]
    assert "twisted/__init__.py" not in names
    assert "twisted/plugins/__init__.py" not in names
