"""The kernels room imports nothing of brainlike but its errors, so that every room may use it."""

import ast
from pathlib import Path

import brainlike.kernels


def brainlike_imports(package) -> dict[str, set[str]]:
    """Module file -> the brainlike modules it imports (absolute imports only, as the code base uses)."""
    found = {}
    for path in Path(package.__file__).parent.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.name] = {n for n in names if n == "brainlike" or n.startswith("brainlike.")}
    return found


def room(module: str) -> str:
    """The brainlike sub-package (or top-level module) a module name belongs to; "" for brainlike itself."""
    return module.partition(".")[2].partition(".")[0]


def test_kernels_import_only_errors_and_each_other():
    for module, names in brainlike_imports(brainlike.kernels).items():
        outside = {n for n in names if room(n) not in ("errors", "kernels")}
        assert not outside, f"kernels/{module} imports {sorted(outside)}"
