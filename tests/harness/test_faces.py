"""Every stage package has a face: `__all__` names what other stages may use, each name
resolves, and the face's docstring says what each one is for."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import harness

STAGES = sorted(
    module.name
    for module in pkgutil.iter_modules(harness.__path__, "harness.")
    if module.ispkg and module.name != "harness.engine"  # the engine runs inside Locust only
)


def test_the_stage_packages_are_the_ones_the_architecture_names() -> None:
    assert STAGES == [
        "harness.capacity",
        "harness.compare",
        "harness.importers",
        "harness.live",
        "harness.observe",
        "harness.report",
        "harness.run",
        "harness.rundir",
        "harness.spec",
        "harness.timeline",
        "harness.verdict",
    ]


@pytest.mark.parametrize("name", STAGES)
def test_a_face_exports_names_that_resolve(name: str) -> None:
    face = importlib.import_module(name)
    exported = face.__all__
    assert exported, f"{name} exports nothing"
    assert len(set(exported)) == len(exported)
    for public in exported:
        assert not public.startswith("_")
        assert hasattr(face, public), f"{name}.{public} does not resolve"


@pytest.mark.parametrize("name", STAGES)
def test_a_face_docstring_names_every_export(name: str) -> None:
    face = importlib.import_module(name)
    doc = face.__doc__ or ""
    missing = [
        public for public in face.__all__ if not re.search(rf"(?<![\w.]){public}(?!\w)", doc)
    ]
    assert not missing, f"{name}'s docstring does not say what these are for: {missing}"


def test_the_engine_face_gives_only_the_path_of_its_entry_point() -> None:
    import harness.engine

    assert harness.engine.__all__ == ["ENGINE_LOCUSTFILE"]
    assert harness.engine.ENGINE_LOCUSTFILE.is_file()
