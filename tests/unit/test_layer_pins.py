"""The layer sam builds carries the versions the tests run: its requirements are held to constraints.txt."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)$")


def _pins(path: Path) -> dict[str, str]:
    found = (PIN.match(line.strip()) for line in path.read_text().splitlines())
    return {match.group(1).lower().replace("_", "-"): match.group(2) for match in found if match}


def test_the_layers_requirements_are_constrained_by_the_pins_the_tests_use() -> None:
    requirements = (ROOT / "layers/core/requirements.txt").read_text().splitlines()
    layer, constraints = _pins(ROOT / "layers/core/requirements.txt"), _pins(ROOT / "constraints.txt")

    assert "-c ../../constraints.txt" in requirements
    assert layer and {name: constraints.get(name) for name in layer} == layer
