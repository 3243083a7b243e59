"""Dependencies run one way: each folder of the package imports only the folders its
docstring names ("May import: ..."), those declarations have no cycle, and only the
host boundary imports webui (only the HTTP layers import the web framework)."""

import ast
import os
import re
import subprocess
import sys

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension", "webui_taskqueue")
WEBUI = {"modules", "modules_forge", "backend", "gradio", "launch"}
# one module per host, and webui's page (its gradio handlers)
WEBUI_BOUNDARY = {"host/webui.py", "host/webui_request.py", "host/forge.py", "host/webui_page.py"}
HTTP = {"fastapi", "starlette", "anyio", "uvicorn"}
HTTP_FOLDERS = {"api", "runtime"}


def folders():
    return sorted(name for name in os.listdir(PACKAGE) if os.path.isfile(os.path.join(PACKAGE, name, "__init__.py")))


def declared(folder):
    """The folders `folder`'s docstring says it may import; None for "every other folder"."""
    doc = ast.get_docstring(ast.parse(open(os.path.join(PACKAGE, folder, "__init__.py"), encoding="utf-8").read())) or ""
    found = re.search(r"May import: (.+?)\.\s*\Z", doc, re.S)
    assert found, f"{folder}/__init__.py: its docstring ends without 'May import: ...'"
    text = " ".join(found.group(1).split())
    if text == "every other folder":
        return None
    if text == "nothing of the package":
        return set()
    return {name.strip() for name in text.split(",")}


def modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, name), PACKAGE).replace(os.sep, "/")


def source(module):
    return open(os.path.join(PACKAGE, module), encoding="utf-8").read()


def imports(module, text=None):
    """("package", its top folder) or ("outside", a top-level name) for each import in
    `module` (its source, or `text` in its place)."""
    package = module[:-3].split("/")[:-1]
    for node in ast.walk(ast.parse(source(module) if text is None else text)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - (node.level - 1)]
            target = base + (node.module.split(".") if node.module else [])
            names = [target] if node.module or target else [[alias.name] for alias in node.names]
            for name in names:
                yield ("package", name[0]) if name else ("package", "")
        elif isinstance(node, ast.ImportFrom):
            yield ("outside", node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield ("outside", alias.name.split(".")[0])


def wrong_arrows(edited=None):
    """Every import of one folder from another that the importer's docstring does not allow
    (`edited`: module -> a source to read in its place)."""
    edited = edited or {}
    allowed = {folder: declared(folder) for folder in folders()}
    found = []
    for module in sorted(modules()):
        own = module.split("/")[0] if "/" in module else None
        for kind, name in imports(module, edited.get(module)):
            if kind != "package" or own is None or name == own or name not in allowed:
                continue
            if allowed[own] is not None and name not in allowed[own]:
                found.append(f"{module} imports {name}/, which {own}/ may not import")
    return found


def test_every_folder_imports_only_what_its_docstring_allows():
    assert wrong_arrows() == []


def test_the_declared_dependencies_run_one_way():
    allowed = {folder: declared(folder) for folder in folders()}
    everything = set(allowed)
    graph = {folder: (everything - {folder}) if names is None else names for folder, names in allowed.items()}
    assert all(names <= everything for names in graph.values()), graph
    done, path = set(), []

    def visit(folder):
        assert folder not in path, f"a cycle: {' -> '.join(path + [folder])}"
        if folder in done:
            return
        path.append(folder)
        for name in graph[folder]:
            visit(name)
        path.pop()
        done.add(folder)

    # runtime may import every other folder, and nothing may import runtime
    assert [folder for folder, names in graph.items() if "runtime" in names] == []
    for folder in [f for f in graph if f != "runtime"]:
        visit(folder)


def test_every_module_sits_in_a_folder_named_for_its_concern():
    loose = [module for module in modules() if "/" not in module and module not in ("__init__.py", "__main__.py")]
    assert loose == []


def test_a_reversed_arrow_is_caught():
    # the store importing the scheduler, as its Redis scripts once did
    reversed_arrow = source("store/contract.py") + "\nfrom ..scheduling.policy import Plan\n"
    assert wrong_arrows({"store/contract.py": reversed_arrow}) == [
        "store/contract.py imports scheduling/, which store/ may not import"]


def test_only_the_host_boundary_imports_webui():
    offenders = [module for module in sorted(modules())
                 if module not in WEBUI_BOUNDARY and WEBUI & {name for kind, name in imports(module) if kind == "outside"}]
    assert offenders == []


def test_only_the_http_layers_import_the_web_framework():
    offenders = [module for module in sorted(modules())
                 if module.split("/")[0] not in HTTP_FOLDERS and HTTP & {name for kind, name in imports(module) if kind == "outside"}]
    assert offenders == []


def test_the_command_line_needs_only_the_standard_library():
    # the owner manages users with webui stopped, from any Python
    code = "import sys, webui_taskqueue.people.cli\nprint(sorted({'fastapi', 'pydantic', 'PIL', 'starlette'} & set(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_package_imports_without_webui_and_without_side_effects():
    # a clean interpreter without the stand-in on the path: `modules` does not exist
    skipped = sorted("webui_taskqueue." + m[:-3].replace("/", ".") for m in WEBUI_BOUNDARY) + ["webui_taskqueue.__main__"]
    code = (
        "import sys, threading, pkgutil, importlib, webui_taskqueue as p\n"
        "names = [m.name for m in pkgutil.walk_packages(p.__path__, 'webui_taskqueue.')\n"
        f"         if m.name not in {skipped!r}]\n"
        "for n in names: importlib.import_module(n)\n"
        "assert 'modules' not in sys.modules\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print(len(names))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 60
