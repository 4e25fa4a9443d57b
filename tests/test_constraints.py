"""constraints.txt pins the release of every package the service and its tests install.

`make` installs with it (pip's -c), so every machine and every CI run gets the releases the
suite passed with. A dependency added to pyproject.toml without `make lock`, a pin outside a
declared range, or an environment that drifted from the pins fails here, saying what to do.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]

#: What pip installs into every environment itself; `pip freeze` leaves these out.
PIP_OWN = {"pip", "setuptools", "wheel", "distribute"}


def pins() -> dict[NormalizedName, Version]:
    pinned: dict[NormalizedName, Version] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not `name==version`"
        key = canonicalize_name(name)
        assert key not in pinned, f"constraints.txt pins {name} twice"
        pinned[key] = Version(version)
    return pinned


PROJECT: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

#: Every requirement pyproject.toml declares: the service's and each extra's.
DECLARED = [
    Requirement(text)
    for texts in (PROJECT["dependencies"], *PROJECT["optional-dependencies"].values())
    for text in texts
]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pinned = pins()
    unpinned = [str(r) for r in DECLARED if canonicalize_name(r.name) not in pinned]
    assert not unpinned, f"not in constraints.txt (run `make lock`): {unpinned}"
    outside = [
        f"{r} but constraints.txt has {pinned[canonicalize_name(r.name)]}"
        for r in DECLARED
        if not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not outside, f"pins outside pyproject.toml's ranges (run `make lock`): {outside}"


def test_the_environment_holds_the_pinned_releases_and_nothing_unpinned() -> None:
    pinned = pins()
    installed = {
        canonicalize_name(d.metadata["Name"]): Version(d.version) for d in metadata.distributions()
    }
    ours = canonicalize_name(PROJECT["name"])
    differ = [
        f"{name} {installed[name]} installed, {version} pinned"
        for name, version in sorted(pinned.items())
        if name in installed and installed[name] != version
    ]
    assert not differ, f"the environment differs from constraints.txt (`make dev`): {differ}"
    missing = sorted(set(pinned) - set(installed))
    assert not missing, f"pinned but not installed (`make dev` installs them): {missing}"
    loose = sorted(set(installed) - set(pinned) - {ours} - PIP_OWN)
    assert not loose, f"installed without a pin (run `make lock`): {loose}"
