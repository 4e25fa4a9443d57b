"""`python -m bench.code_shape`: figures of how the package reads, for comparing commits.

Function length (lines, decorators excluded), the largest module, imports inside
functions, and the places that call `commit(` or `rollback(`. Deterministic: the same
tree gives the same figures on any machine.
"""

from __future__ import annotations

import ast
import re
import statistics
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "akta_service"
_TRANSACTION_CALL = re.compile(r"\.(commit|rollback)\(")


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return (node.end_lineno or node.lineno) - node.lineno + 1


def _imports_inside_functions(tree: ast.AST) -> int:
    """Import statements that run when a function is called, not when the module loads."""
    inside: set[int] = set()
    for function in _functions(tree):
        inside.update(
            id(n) for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom)
        )
    return len(inside)


def measure(package: Path = PACKAGE) -> dict[str, object]:
    """The figures of every module under `package`."""
    lengths: list[int] = []
    inner_imports = 0
    module_lines: dict[str, int] = {}
    transaction_calls: list[str] = []
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        relative = str(path.relative_to(package.parent))
        module_lines[relative] = source.count("\n")
        tree = ast.parse(source)
        lengths.extend(_length(n) for n in _functions(tree))
        inner_imports += _imports_inside_functions(tree)
        for number, line in enumerate(source.splitlines(), start=1):
            if _TRANSACTION_CALL.search(line.split("#", 1)[0]):
                transaction_calls.append(f"{relative}:{number}")
    lengths.sort()
    largest = max(module_lines.items(), key=lambda item: item[1])
    return {
        "functions": len(lengths),
        "median length": statistics.median(lengths),
        "p90 length": lengths[int(0.9 * (len(lengths) - 1))],
        "max length": lengths[-1],
        "largest module": f"{largest[0]} ({largest[1]} lines)",
        "imports inside functions": inner_imports,
        "commit/rollback call sites": len(transaction_calls),
    }


def main() -> None:
    print("code shape (akta_service/):")
    for name, value in measure().items():
        print(f"  {name:28} {value}")


if __name__ == "__main__":
    main()
