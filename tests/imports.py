"""What a module imports, read from its source: for the tests that keep a layer pure."""
import ast
from pathlib import Path


def imported_modules(path: str | Path) -> list[str]:
    """The absolute names of the modules the file at `path` imports."""
    imported = []
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            imported.append(node.module or "")
    return imported
