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


# Inside agent/: what each folder's __init__.py docstring promises it imports.
AGENT_FOLDERS = {"bridge", "lines", "modem", "spool", "commands"}
AGENT_MAY_IMPORT = {
    "modem": set(),
    "spool": set(),
    "bridge": {"spool.smslib_allow"},  # the allow-list's pure database check
    "lines": {"bridge", "modem", "spool"},
    "commands": AGENT_FOLDERS | {"config"},
}


def agent_imports(path: Path, place: Path | None = None) -> set[tuple[str, int]]:
    """The agent/ modules `path` imports (dotted below agent/), relative ones resolved
    as if the file were at `place` (default: where it is)."""
    here = (place or path).relative_to(ROOT / "agent").parent.parts
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = here[: len(here) - (node.level - 1)]
            names = [".".join(("agent", *base, *(node.module or "").split(".")))]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.strip(".").split(".")
            if parts[0] == "agent" and len(parts) > 1:
                found.add((".".join(parts[1:]), node.lineno))
    return found


@pytest.mark.parametrize("folder", sorted(AGENT_MAY_IMPORT))
def test_agent_folder_imports_only_what_its_docstring_allows(folder: str) -> None:
    allowed = AGENT_MAY_IMPORT[folder] | {folder, "errors"}

    def ok(target: str) -> bool:
        return any(target == a or target.startswith(a + ".") for a in allowed) or (
            target.split(".")[0] not in AGENT_FOLDERS | {"config", "cli"}
        )

    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports agent.{target}"
        for path in sorted((ROOT / "agent" / folder).rglob("*.py"))
        for target, line in sorted(agent_imports(path))
        if not ok(target)
    ]
    assert not wrong, f"agent/{folder}/ may import only {sorted(allowed)}:\n" + "\n".join(wrong)


def test_the_agent_check_sees_a_wrong_import(tmp_path: Path) -> None:
    module = tmp_path / "x.py"
    module.write_text("from ..bridge import outbox\nfrom .at import Engine\nimport agent.errors\n")
    place = ROOT / "agent" / "modem" / "x.py"
    assert agent_imports(module, place) == {("bridge", 1), ("modem.at", 2), ("errors", 3)}
