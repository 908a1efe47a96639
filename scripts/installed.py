"""Exit 0 when .venv already holds everything `scripts/setup.sh [extras]` would install, else 1.

A quick look (no heavy import): recengine resolves to this checkout, and every requirement of
pyproject.toml (plus the extras asked for) is installed in a version it accepts. It lets
`scripts/start.sh` skip pip, which costs 10-20 s even when nothing is missing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement


def missing(root: Path, extras: list[str]) -> list[str]:
    """The requirements not satisfied in this interpreter (empty when everything is there)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project.get("dependencies", []))
    for extra in extras:
        wanted += project.get("optional-dependencies", {}).get(extra, [])
    problems = []
    spec = importlib.util.find_spec("recengine")
    if spec is None or spec.origin is None or not Path(spec.origin).resolve().is_relative_to(root):
        problems.append("recengine (this checkout)")
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(requirement.name)
            continue
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name} {version} (wants {requirement.specifier})")
    return problems


if __name__ == "__main__":
    problems = missing(Path(__file__).resolve().parents[1], [part for part in sys.argv[1:] if part])
    if problems:
        print(f"to install: {', '.join(problems)}", file=sys.stderr)
    sys.exit(1 if problems else 0)
