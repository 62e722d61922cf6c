"""buildtools/stdlib.py and buildtools/imports.py: the standard library shipped without what
nothing can import, and the import graph that proves it (the real build's zip is checked in
test_build.py)."""

import ast
import io
import marshal
import zipfile

import pytest

from buildtools import stdlib, wheels
from buildtools.common import ROOT, BuildError
from buildtools.imports import imports_in, without_comments


def found(source: str, name: str = "pkg.mod", is_package: bool = False) -> set[str]:
    return imports_in(source, name, is_package)[0]


def test_every_form_of_import_counts_with_its_packages():
    assert found("import a.b.c") == {"a", "a.b", "a.b.c"}
    assert found("import x as y, z") == {"x", "z"}
    # `from a import b`: b may be a submodule, so a.b counts (a name that is not a module is
    # recorded and never followed).
    assert found("from email import utils as u") == {"email", "email.utils"}
    assert found("from os.path import *") == {"os", "os.path"}


def test_relative_imports_resolve_against_the_module_and_its_package():
    assert found("from . import sib", "pkg.mod") == {"pkg", "pkg.sib"}
    assert found("from .sib import x", "pkg.mod") == {"pkg", "pkg.sib", "pkg.sib.x"}
    assert found("from .sub import x", "pkg", is_package=True) == {"pkg", "pkg.sub", "pkg.sub.x"}
    assert found("from .. import up", "a.b.c") == {"a", "a.up"}


def test_imports_inside_functions_try_and_type_checking_count():
    source = """
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import decimal
try:
    import _json
except ImportError:
    import json
def later():
    import zoneinfo
class K:
    def m(self):
        from uuid import uuid4
"""
    assert {"decimal", "_json", "json", "zoneinfo", "uuid", "uuid.uuid4"} <= found(source)


def test_the_main_guard_is_skipped_and_nothing_else():
    source = """
import a
if __name__ == "__main__":
    import doctest
else:
    import b
if "__main__" == __name__:
    import unittest
if __name__ == "__mp_main__":
    import c
"""
    assert found(source) == {"a", "b", "c"}


def test_literal_import_calls_breakpoint_and_computed_names():
    names, dynamic = imports_in(
        "import importlib\nimportlib.import_module('xml.dom')\n__import__('csv')\n", "m", False
    )
    assert {"xml", "xml.dom", "csv"} <= names and not dynamic
    assert "pdb" in found("def f():\n    breakpoint()\n")
    # A computed name: flagged, and every string shaped like a module name counts.
    names, dynamic = imports_in(
        "import importlib\nDEFAULT = ['xml.sax.expatreader', 'a b', 'pkg.mod:func']\n"
        "def load(name):\n    return importlib.import_module(name)\n",
        "m",
        False,
    )
    assert dynamic
    assert {"xml.sax.expatreader", "pkg.mod"} <= names and "a b" not in names


def test_the_closure_follows_imports_breadth_first_and_names_the_chain():
    graph = {
        "app": (["lib", "os"], False),
        "lib": (["lib.deep"], False),
        "lib.deep": (["far"], False),
        "os": (["far"], False),
        "far": ([], False),
    }
    reached = stdlib.closure({"app"}, graph)
    assert set(reached) == {"app", "lib", "lib.deep", "os", "far"}
    assert stdlib.chain(reached, "far") == ["app", "os", "far"]  # the shortest


def test_javascript_and_pyscripts_embedded_python_are_read():
    js = 'const m = py.pyimport("functools"); run("import zoneinfo\\nfrom json import dumps")'
    assert {"functools", "zoneinfo", "json"} <= stdlib.js_imports(js)
    bundle = 'const files={"__init__.py":"import js\\nfrom pyscript.web import page","web.py":"import asyncio"};'
    modules = stdlib.embedded_python(bundle, "pyscript")
    assert modules["pyscript"] == (b"import js\nfrom pyscript.web import page", True)
    assert modules["pyscript.web"] == (b"import asyncio", False)


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


STDLIB = {
    "site.py": "import os\n",
    "os.py": "import posixpath\n",
    "posixpath.py": "",
    "json/__init__.py": "from .decoder import JSONDecoder\n",
    "json/decoder.py": "",
    "json/tool.py": "import argparse\n",
    "argparse.py": "",
    "unittest/__init__.py": "from .case import TestCase\n",
    "unittest/case.py": "",
    "unittest/data.txt": "kept only with its package",
    "xml/__init__.py": "",
    "xml/etree/__init__.py": "",
    "xml/etree/ElementTree.py": "",
    "xml/README.txt": "",
    "encodings/__init__.py": "",
    "encodings/cp1252.py": "",
    "mailbox.py": "import email\n",
    "_pyodide/__init__.py": "import pyodide\n",
    "pyodide/__init__.py": "",
}


def test_the_pruned_zip_keeps_what_is_reachable_and_leaves_out_the_rest():
    shipped = {"app": (b"import json\nimport xml\n", False)}
    pruned, left_out, reached = stdlib.pruned_stdlib(
        zip_of(STDLIB), shipped, ["import { x } from './y.js';"], stdlib.parse_here
    )
    names = set(zipfile.ZipFile(io.BytesIO(pruned)).namelist())
    assert names == {
        "site.py",  # FROM_C: start-up
        "os.py",
        "posixpath.py",
        "json/__init__.py",
        "json/decoder.py",
        "xml/__init__.py",
        "xml/README.txt",  # a data file of a kept package
        "encodings/__init__.py",
        "encodings/cp1252.py",  # kept whole
        "_pyodide/__init__.py",
        "pyodide/__init__.py",
    }
    assert left_out == [
        "argparse",
        "json.tool",
        "mailbox",
        "unittest",
        "unittest.case",
        "xml.etree",
        "xml.etree.ElementTree",
    ]
    assert stdlib.chain(reached, "json.decoder") == ["app", "json", "json.decoder"]


def test_a_module_imported_by_a_shipped_one_or_by_javascript_is_kept():
    whole = zip_of(STDLIB)
    shipped = {"app": (b"def later():\n    import unittest\n", False)}
    pruned, left_out, _ = stdlib.pruned_stdlib(
        whole, shipped, ['py.runPython("import mailbox")'], stdlib.parse_here
    )
    names = set(zipfile.ZipFile(io.BytesIO(pruned)).namelist())
    assert {"unittest/__init__.py", "unittest/case.py", "unittest/data.txt", "mailbox.py"} <= names
    assert "unittest" not in left_out and "mailbox" not in left_out


def test_an_unreviewed_computed_import_fails_the_build():
    shipped = {"app": (b"import importlib\ndef f(n):\n    importlib.import_module(n)\n", False)}
    with pytest.raises(BuildError, match=r"computed at run time.*\['app'\]"):
        stdlib.pruned_stdlib(zip_of(STDLIB), shipped, [], stdlib.parse_here)


def test_every_reviewed_dynamic_importer_and_kept_package_is_named():
    assert stdlib.KEPT_WHOLE == ("encodings",)
    assert all(reason for reason in stdlib.DYNAMIC_REVIEWED.values())
    assert {"site", "encodings", "warnings", "_strptime", "_pylong"} <= set(stdlib.FROM_C)


def test_the_uncommenter_sees_only_the_kept_sources():
    seen: list[str] = []

    def uncomment(files):
        seen.extend(files)
        return {path: data.replace(b"# note", b"") for path, data in files.items()}

    whole = zip_of({**STDLIB, "os.py": "import posixpath  # note\n"})
    shipped = {"app": (b"import json\n", False)}
    pruned, _, _ = stdlib.pruned_stdlib(whole, shipped, [], stdlib.parse_here, uncomment)
    assert "mailbox.py" not in seen and "unittest/data.txt" not in seen and "os.py" in seen
    assert zipfile.ZipFile(io.BytesIO(pruned)).read("os.py") == b"import posixpath  \n"


SOURCE = b'''#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Doc # not a comment."""
# A comment alone on its line.
X = {  # open
    "#": 1,  # a key that looks like one
}


def f(a):  # trailing
    return a + 1  # still line 11
'''


def test_comments_go_and_the_code_stays_the_same():
    stripped = without_comments(SOURCE, "m.py")
    assert stripped.count(b"\n") == SOURCE.count(b"\n")  # every line in its place
    assert b"comment alone" not in stripped and b"trailing" not in stripped
    assert stripped.startswith(b"#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n")
    assert b'"""Doc # not a comment."""' in stripped and b'"#": 1,' in stripped
    assert marshal.dumps(compile(stripped, "m.py", "exec")) == marshal.dumps(
        compile(SOURCE, "m.py", "exec")
    )
    assert without_comments(b"x = (  # unclosed\n", "m.py") == b"x = (  # unclosed\n"


def test_docstrings_are_left_out_of_the_bytecode_and_nothing_else():
    namespace: dict = {}
    exec(wheels.PYCOMPILE_PY, namespace)
    source = b'''"""Module doc."""
from __future__ import annotations

class K:
    """Class doc."""

def f():
    """Only a docstring."""

def g():
    """Doc."""
    label = "not a docstring"
    assert label
    return label
'''
    tree = namespace["without_docstrings"](source, "m.py")
    module: dict = {}
    exec(compile(tree, "m.py", "exec"), module)
    assert module.get("__doc__") is None and module["K"].__doc__ is None
    assert module["f"]() is None and module["f"].__doc__ is None
    assert module["g"]() == "not a docstring" and module["g"].__code__.co_firstlineno == 10


def test_no_module_of_ours_reads_a_docstring():
    """The app's bytecode is shipped without docstrings: nothing of ours may read one (nor
    generate a JSON schema, whose descriptions pydantic takes from them)."""
    readers = []
    for path in sorted((ROOT / "site" / "py").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
            if name in ("__doc__", "getdoc", "cleandoc", "model_json_schema", "json_schema"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert readers == []
