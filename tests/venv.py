"""The session's plugin venv: a fresh virtual environment holding harvester (built from this
checkout), the example plugin (examples/harvester-arxiv), a deliberately broken distribution,
the plugin guide's example project (written from docs/plugins.md) and pytest.

Built once per session by the `plugin_venv` fixture (tests/conftest.py); used by
tests/test_example_plugin.py, tests/test_docs.py, tests/test_scaffold.py and
tests/test_packaging.py. uv builds and installs (a test dependency): pip took twice the time and
the CPU for the same venv, which mattered for the 5-minute test command; what is installed is
the same distributions, built by the same setuptools backend.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import uv

UV = uv.find_uv_bin()
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "harvester-arxiv"
GUIDE = ROOT / "docs" / "plugins.md"
# A fenced block whose info string names a file: ```python file=harvester_lines/__init__.py
_FILE_BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass
class Venv:
    path: Path
    env: dict[str, str]  # no HARVESTER_PLUGINS: every installed plugin loads

    def bin(self, name: str) -> str:
        return str(self.path / "bin" / name)

    def install(self, *specs: str, editable: bool = False) -> None:
        """Install `specs` (paths or requirement strings) into this venv."""
        done = uv_pip("install", "--python", self.bin("python"), *(["-e"] if editable else []),
                      *specs)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    def installed(self) -> set[str]:
        """The names (lower case) of the distributions installed in this venv."""
        done = uv_pip("list", "--python", self.bin("python"), "--format=freeze")
        assert done.returncode == 0, done.stderr
        return {line.split("==")[0].lower() for line in done.stdout.splitlines() if "==" in line}

    def run(self, *argv: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bin(argv[0]), *argv[1:]],
            cwd=cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )


def _write_broken_distribution(directory: Path) -> Path:
    """`harvester-broken`: entry point `ghost` cannot be imported; `dupe` claims the example's
    source name (it loads after `arxiv`, entry points load in name order)."""
    files = {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "harvester-broken"
            version = "0.0.1"

            [project.entry-points.harvester]
            ghost = "harvester_ghost"
            dupe = "harvester_dupe"

            [tool.setuptools]
            packages = ["harvester_ghost", "harvester_dupe"]
        """,
        "harvester_ghost/__init__.py": """
            import no_such_dependency_xyz  # noqa: F401  (the import that fails)
        """,
        "harvester_dupe/__init__.py": """
            from harvester import Source, hookimpl

            class Dupe(Source):
                name = "arxiv-listing-example"

            @hookimpl
            def register_sources(register):
                register(Dupe)
        """,
    }
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return directory


# What building the harvester distribution reads (pyproject.toml names readme and packages).
DIST_PARTS = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "harvester", "plugins")
_BUILD_LEFTOVERS = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")


def _copy_sources(work: Path) -> tuple[Path, Path]:
    """Copies of the two distributions to build from: pip builds in the source tree, and a
    stale build/ there could slip deleted modules into the wheel."""
    root = work / "harvester-src"
    root.mkdir()
    for part in DIST_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, root / part, ignore=_BUILD_LEFTOVERS)
        else:
            shutil.copy(src, root / part)
    example = work / "harvester-arxiv"
    shutil.copytree(EXAMPLE, example, ignore=_BUILD_LEFTOVERS)
    return root, example


def guide_files(text: str | None = None) -> dict[str, str]:
    """The files the plugin guide shows, by name (its blocks marked `file=...`)."""
    text = text if text is not None else GUIDE.read_text(encoding="utf-8")
    return {name: body for name, body in _FILE_BLOCK.findall(text)}


def write_guide_project(directory: Path) -> Path:
    """The plugin guide's example project, exactly as the guide shows it."""
    files = guide_files()
    assert "pyproject.toml" in files and "run.toml" in files, sorted(files)
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    return directory


def build_venv(work: Path) -> Venv:
    path = work / "venv"
    made = subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    broken = _write_broken_distribution(work / "broken")
    root, example = _copy_sources(work)
    guide = write_guide_project(work / "harvester-lines")
    # Not compiled at install: the suite's controller turns bytecode writing on for every
    # process it starts (tests/precompile.py), so the first process in the venv that imports a
    # module writes its cache, and what no process imports is never compiled.
    install = uv_pip("install", "--python", str(path / "bin" / "python"),
                     str(root), str(example), str(broken), str(guide), "pytest")  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HARVESTER_PLUGINS", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PATH"] = f"{path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Venv(path=path, env=env)


def uv_pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([UV, "pip", *args, "--quiet"], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
