"""The layering, read from the source files (nothing of the project is imported here).

- no circle among the project's module-level imports (a function-level import runs later and is not counted);
- nothing in ``retrieval/`` imports ``bot``, ``slack_bolt`` or ``slack_sdk``, even inside a function;
- inside ``retrieval/`` the stages import only earlier ones (:data:`STAGES`), at any level;
- the environment is read by ``bot/config.py`` (the settings) and ``retrieval/encoders/factory.py`` (its
  documented variables) only, and no module configures a library when imported (faiss threads, logging);
- each package's ``__init__.py`` is its public face: ``__all__`` names exactly the public names it binds
  (imports, definitions, assignments), its own submodules aside (those are reachable as attributes anyway).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("retrieval", "bot")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for top in PACKAGES for p in sorted((ROOT / top).rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _absolute(module: str, level: int, name: str | None) -> str:
    """The module a ``from`` import names, relative levels resolved against ``module``."""
    if not level:
        return name or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _module_level(body: list[ast.stmt]):
    """The statements that run at import: the body, and what ``if``/``try``/``with`` blocks hold
    (``if TYPE_CHECKING:`` blocks never run, so they are left out)."""
    for node in body:
        if isinstance(node, ast.If):
            if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                yield from _module_level(node.orelse)
                continue
            yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _module_level(block)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)
        else:
            yield node


def _imports(module: str, nodes) -> set[str]:
    """The project modules these import nodes import: ``from a.b import c`` is ``a.b.c`` when that is a
    module, else ``a.b``; ``import a.b`` is ``a.b``."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES}


def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))


def _graph() -> dict[str, set[str]]:
    return {m: _imports(m, list(_module_level(_tree(m).body))) - {m} for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module (Tarjan), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_modules_are_found():
    assert {"retrieval", "retrieval.search.searcher", "bot.cli", "bot.slack.listeners.registry"} <= set(MODULES)


def test_no_module_level_import_circle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_retrieval_never_imports_bot_or_slack():
    offenders = []
    for module, path in MODULES.items():
        if not module.startswith("retrieval"):
            continue
        for node in ast.walk(_tree(module)):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [_absolute(module, node.level, node.module)]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                          if n.split(".")[0] in ("bot", "slack_bolt", "slack_sdk")]
    assert offenders == []


#: The stages of ``retrieval/`` in flow order (ARCHITECTURE.md): each may import only those before it.
STAGES = ["retrieval.errors", "retrieval.text", "retrieval.intake", "retrieval.chunking", "retrieval.encoders",
          "retrieval.answerability", "retrieval.instruments", "retrieval.index", "retrieval.search",
          "retrieval.ingest"]


def _stage(module: str) -> str | None:
    return next((s for s in STAGES if module == s or module.startswith(s + ".")), None)


def test_every_retrieval_module_has_a_stage():
    assert [m for m in MODULES if m.startswith("retrieval.") and _stage(m) is None] == []


def test_retrieval_stages_import_only_earlier_stages():
    backwards = []
    for module in MODULES:
        here = _stage(module)
        if here is None:
            continue
        nodes = [n for n in ast.walk(_tree(module)) if isinstance(n, (ast.Import, ast.ImportFrom))]
        for target in _imports(module, nodes):
            there = _stage(target)
            if there is not None and STAGES.index(there) > STAGES.index(here):
                backwards.append(f"{module} imports {target}")
    assert backwards == []


def _face(source: str, submodules: set[str]) -> tuple[list[str] | None, set[str]]:
    """``__all__`` of a package's ``__init__`` source, and the public names it binds: project imports,
    definitions and assignments (its submodules and third-party imports such as ``click`` aside)."""
    declared: list[str] | None = None
    bound: set[str] = set()
    for node in _module_level(ast.parse(source).body):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in PACKAGES):
            bound.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            bound.update(a.asname or a.name.partition(".")[0] for a in node.names if a.name.split(".")[0] in PACKAGES)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
                if names == {"__all__"} and node.value is not None:
                    declared = list(ast.literal_eval(node.value))
                bound |= names
        elif isinstance(node, ast.For):
            bound |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return declared, {n for n in bound if not n.startswith("_")} - submodules


PACKAGE_FACES = sorted(m for m in MODULES if _is_package(m) and m != "bot")


@pytest.mark.parametrize("package", PACKAGE_FACES)
def test_each_package_face_declares_exactly_what_it_exports(package):
    submodules = {m.rpartition(".")[2] for m in MODULES if m.rpartition(".")[0] == package}
    declared, public = _face(MODULES[package].read_text(encoding="utf-8"), submodules)
    assert declared is not None, f"{package}/__init__.py has no __all__"
    assert len(declared) == len(set(declared)), f"{package}.__all__ names a name twice"
    assert sorted(set(declared) - submodules) == sorted(public), (
        f"{package}.__all__ {sorted(declared)} is not what the face binds: {sorted(public)}")


@pytest.mark.parametrize("source, problem", [
    ("from .a import X, Y\n__all__ = ['X']\n", (["X"], {"X", "Y"})),           # Y exported, not declared
    ("from .a import X\n__all__ = ['X', 'Z']\n", (["X", "Z"], {"X"})),         # Z declared, not bound
    ("import click\nfrom . import a\nfrom .a import X\nMAX = 3\n__all__ = ['X']\n", (["X"], {"MAX", "X"})),
])
def test_the_face_check_sees_what_all_leaves_out_or_names_wrongly(source, problem):
    declared, public = _face(source, {"a"})
    assert (declared, public) == problem and sorted(declared) != sorted(public)


#: The modules that may read ``os.environ``: the settings, and the encoder factory's documented variables.
ENVIRONMENT_READERS = {"bot.config", "retrieval.encoders.factory"}


def test_the_environment_is_read_in_one_place():
    readers = []
    for module in MODULES:
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{module}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                    and {a.name for a in node.names} & {"environ", "getenv"}:
                readers.append(f"{module}:{node.lineno}")
    assert sorted({r.partition(":")[0] for r in readers} - ENVIRONMENT_READERS) == [], readers


#: Calls that configure a library or the process: never made when a module is imported.
CONFIGURING_CALLS = {"omp_set_num_threads", "set_num_threads", "basicConfig", "dictConfig", "fileConfig",
                     "setLevel", "addHandler", "filterwarnings", "simplefilter", "setdefault", "putenv"}


def test_nothing_is_configured_at_import():
    found = []
    for module in MODULES:
        for node in _module_level(_tree(module).body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                        and call.func.attr in CONFIGURING_CALLS:
                    found.append(f"{module}:{call.lineno} {ast.unparse(call.func)}")
    assert found == []
