"""Only the boundary module talks to webui; the rest imports without it."""

import ast
import os
import subprocess
import sys

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension", "webui_taskqueue")
BOUNDARY = {"webui.py", "webui_request.py", "forge.py"}  # one module per host


def imported_roots(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def package_files():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, name), PACKAGE)


def test_only_the_boundary_imports_webui_modules():
    offenders = [
        name for name in sorted(package_files())
        if name not in BOUNDARY and {"modules", "modules_forge", "backend", "gradio", "launch"} & set(imported_roots(os.path.join(PACKAGE, name)))
    ]
    assert offenders == []


def test_the_command_line_needs_only_the_standard_library():
    # the owner manages users with webui stopped, from any Python
    code = "import sys, webui_taskqueue.cli\nprint(sorted({'fastapi', 'pydantic', 'PIL', 'starlette'} & set(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_package_imports_without_webui_and_without_side_effects():
    # a clean interpreter without the stand-in on the path: `modules` does not exist
    code = (
        "import sys, threading, pkgutil, importlib, webui_taskqueue as p\n"
        "names = [m.name for m in pkgutil.walk_packages(p.__path__, 'webui_taskqueue.')\n"
        "         if m.name not in ('webui_taskqueue.webui', 'webui_taskqueue.webui_request', 'webui_taskqueue.forge',\n"
        "                           'webui_taskqueue.__main__')]\n"
        "for n in names: importlib.import_module(n)\n"
        "assert 'modules' not in sys.modules\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print(len(names))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 10
