"""Puts the example sla.yaml, scenarios/ and examples/ into the wheel (pyproject.toml holds the rest).

They live at the root of the repository, which is the project's layout; a wheel-installed
perfctl has no repository, so `build_py` copies them to `harness/spec/shipped/` in the
build, keeping their paths. `harness/spec/_locate.py` reads them from there (after the
current directory and a checkout), and `perfctl init` writes them into a team's repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("sla.yaml", "scenarios", "examples")
"""Paths at the root of the repository that the wheel carries (the same list as _locate.py)."""
SHIPPED_DIR = Path("harness", "spec", "shipped")


class BuildWithShippedFiles(build_py):
    """build_py, then the shipped files copied under harness/spec/shipped/ of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout itself
        target = Path(self.build_lib) / SHIPPED_DIR
        shutil.rmtree(target, ignore_errors=True)  # a file removed since the last build goes too
        for name in SHIPPED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithShippedFiles})
