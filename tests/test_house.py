"""The shape of the house: a thin CLI, small modules, no import cycles, light read commands,
and only ``wicnews`` installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Where each module of the package lives in the checkout (package-dir in pyproject.toml).
ROOTS = {"wicnews": REPO / "wicnews", "wicnews.pipelines": REPO / "pipelines", "wicnews.schedules": REPO / "schedules"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package, root in ROOTS.items():
        for path in root.rglob("*.py"):
            rel = path.relative_to(root).with_suffix("")
            if "migrations" in rel.parts or any(part in ROOTS for part in rel.parts):
                continue
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if not any(name.startswith(other + ".") or name == other for other in ROOTS if other != package
                       and other.startswith(package + ".")):
                modules[name] = path
    return modules


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules ``path`` imports, anywhere in it (top level or inside functions)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_cli_is_thin_and_no_module_is_large():
    assert len((REPO / "wicnews" / "cli.py").read_text().splitlines()) <= 250
    sizes = {name: len(path.read_text().splitlines()) for name, path in project_modules().items()}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_no_import_cycle_between_project_modules():
    modules = project_modules()
    graph = {name: imports_of(path, name, set(modules)) for name, path in modules.items()}
    # a package's __init__ is imported with each of its modules: not an edge back to itself
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(target):] + [target]))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


@pytest.mark.e2e  # fresh interpreters
def test_read_commands_import_no_crawler_or_extractor(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    subprocess.run([sys.executable, "-c", "import sys; from wicnews.db.engine import open_database; "
                    "open_database(sys.argv[1]).dispose()", url], check=True, cwd=tmp_path)
    code = ("import sys; from wicnews.cli import main; "
            "codes = [main(['new', '--db', sys.argv[1], '--format', 'json']), main(['runs', '--db', sys.argv[1]]), "
            "main(['search', 'Wuzhen', '--db', sys.argv[1], '--format', 'atom']), "
            "main(['new', '--consumer', 'x', '--db', sys.argv[1], '--format', 'csv'])]; "
            "print(codes, sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'lxml', 'trafilatura'}))")
    result = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0] []", result.stdout + result.stderr


@pytest.mark.e2e  # a fresh interpreter
def test_only_wicnews_is_importable_outside_the_checkout(tmp_path):
    code = ("import importlib.util as u; print([n for n in ('wicnews', 'wicnews.pipelines', 'wicnews.schedules', "
            "'pipelines', 'schedules') if u.find_spec(n)])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "['wicnews', 'wicnews.pipelines', 'wicnews.schedules']", result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("script", sorted(p.name for p in (Path(__file__).parent.parent / "bench").glob("*.py")))
def test_every_bench_script_answers_help_without_doing_its_work(script):
    """``python bench/X.py --help`` prints its usage and exits 0: it never starts a server or
    a long evaluation on a shared machine."""
    path = Path(__file__).parent.parent / "bench" / script
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=60,
                            cwd=path.parent)
    if result.returncode == 0 and not result.stdout.startswith("usage:"):
        assert "def main" not in path.read_text(encoding="utf-8") and "__main__" not in path.read_text(encoding="utf-8"), \
            result.stdout[:300]  # a module of helpers, not a script
        return
    assert result.returncode == 0 and result.stdout.startswith("usage:"), (result.stdout[:300], result.stderr[-500:])
