"""The import statements of Python modules, read with `ast`: what `buildtools/stdlib.py` walks to
prove which standard library modules nothing we ship can import; and the same sources without
their comments, checked to compile to the very same bytecode.

Self-contained (standard library only, no other buildtools import): the build runs this very
file inside the vendored Pyodide under Node.js, because the modules it reads are Python 3.14
(PEP 695 generics, `except A, B:`, t-strings) that an older build Python cannot parse. The
tests run it under the build's Python on sources that Python can parse.
"""

from __future__ import annotations

import ast
import io
import marshal
import re
import tokenize
from collections.abc import Mapping, Sequence

# Calls that import the module named by their first argument.
IMPORTERS = frozenset({"import_module", "__import__", "find_spec", "import_fresh_module"})


# "a.b.c" or "a.b:attr" (pkgutil.resolve_name, entry points)
_MODULE_NAME = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::[\w.]+)?$")


def with_parents(name: str) -> set[str]:
    """`a.b.c` → {a, a.b, a.b.c}: importing a submodule imports its packages first."""
    parts = name.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def _called(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides) and any(
        isinstance(side, ast.Constant) and side.value == "__main__" for side in sides
    )


def imports_in(source: bytes | str, name: str, is_package: bool) -> tuple[set[str], bool]:
    """(every absolute module name the module `name` can import, whether it also imports a
    module whose name is computed at run time).

    Every import statement counts, wherever it is (inside functions, `try`, `if
    TYPE_CHECKING`): `import a.b` gives a and a.b; `from a import b` gives a and a.b (b may be
    a module); relative imports are resolved against `name`; `import_module("x")`,
    `__import__("x")` and `find_spec("x")` with a literal give x; in a module that also imports
    a computed name, every string constant shaped like a module name counts; a call of `breakpoint()`
    gives pdb (its default hook). Only the body of `if __name__ == "__main__":` is skipped: it
    runs when the module is started as a program (`python -m`), never when it is imported.
    """
    tree = ast.parse(source, name)
    for guard in [n for n in ast.walk(tree) if isinstance(n, ast.If) and _is_main_guard(n.test)]:
        guard.body = []
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= with_parents(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base:
                continue
            found |= with_parents(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
        elif isinstance(node, ast.Call) and _called(node) == "breakpoint":
            found.add("pdb")
        elif isinstance(node, ast.Call) and node.args and _called(node) in IMPORTERS:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if not first.value.startswith("."):  # relative: inside its own package
                    found |= with_parents(first.value)
            elif _called(node) in ("import_module", "__import__"):
                dynamic = True
    if dynamic:  # the names it may compute from: every string that could name a module
        for constant in ast.walk(tree):
            if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                match = _MODULE_NAME.match(constant.value)
                if match:
                    found |= with_parents(match.group(1))
    return found, dynamic


def imports_of(modules: Mapping[str, Sequence]) -> dict[str, list]:
    """{name: [source, is package]} → {name: [sorted imported names, dynamic]}; a module that
    does not parse raises SyntaxError with its name."""
    out: dict[str, list] = {}
    for name, (source, is_package) in modules.items():
        found, dynamic = imports_in(source, name, is_package)
        out[name] = [sorted(found), dynamic]
    return out


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")


def without_comments(source: bytes, name: str) -> bytes:
    """`source` without its comments (each line keeps its place: a comment-only line becomes an
    empty one), if that compiles to exactly the same code object (marshalled: the same
    bytecode, constants, names, line and column positions); else `source` unchanged. The
    encoding declaration on the first two lines and a `#!` line stay."""
    try:
        text = source.decode("utf-8")
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (UnicodeDecodeError, SyntaxError, tokenize.TokenError):
        return source
    lines = text.splitlines(keepends=True)
    for token in reversed(tokens):
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        if row <= 2 and (_CODING.match(token.string) or token.string.startswith("#!")):
            continue
        line = lines[row - 1]
        ending = line[len(line.rstrip("\r\n")) :]
        lines[row - 1] = line[:col].rstrip() + ending
    stripped = "".join(lines).encode("utf-8")
    if stripped == source:
        return source
    try:
        same = marshal.dumps(compile(source, name, "exec", dont_inherit=True)) == marshal.dumps(
            compile(stripped, name, "exec", dont_inherit=True)
        )
    except (SyntaxError, ValueError):
        return source
    return stripped if same else source


def sources_without_comments(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """{path: source} → the same without comments (`without_comments`), for the .py files."""
    return {
        path: without_comments(data, path) for path, data in files.items() if path.endswith(".py")
    }
