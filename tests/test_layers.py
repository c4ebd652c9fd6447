"""The layering the README promises, checked from the code's own imports.

`sms/` is pure and imports none of ours; `bridge/` (the protocol both halves speak)
imports only `sms/`; `agent/` and `server/` import `bridge/` and `sms/` but never each
other. A test in the suite, so a shortcut across the line fails at once instead of
growing into a second copy of the protocol.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"sms", "bridge", "agent", "server"}
MAY_IMPORT = {
    "sms": set(),
    "bridge": {"sms"},
    "agent": {"sms", "bridge"},
    "server": {"sms", "bridge"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """Our top-level packages that `path` imports, with the line of each import."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {(n.split(".")[0], node.lineno) for n in names if n.split(".")[0] in OURS}
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    allowed = MAY_IMPORT[package] | {package}
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for other, line in sorted(imported_packages(path))
        if other not in allowed
    ]
    assert not wrong, f"{package}/ may import only {sorted(allowed)}:\n" + "\n".join(wrong)


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom agent.modem import pdu\nfrom . import sibling\n")
    assert imported_packages(module) == {("agent", 2)}
