"""The package's layout, read from its source: no import cycle, one documented subpackage per
stage, a handful of top-level modules, and the legacy-Keras boundary kept."""

import ast
import os

import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "squish_tf")
SUBPACKAGES = {"net", "data", "evolve", "train", "export", "legacy", "bench", "report", "cli"}
MAX_TOP_LEVEL_MODULES = 5  # __init__ aside: errors, config, files, logs, rundir


def modules() -> dict:
  """{dotted module name: source path} of every module in the package."""
  found = {}
  for directory, _, names in os.walk(PACKAGE):
    for name in names:
      if name.endswith(".py"):
        path = os.path.join(directory, name)
        dotted = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
        found[dotted.removesuffix(".__init__")] = path
  return found


def imports_of(name: str, path: str, known: set) -> set:
  """The package modules `name` imports, wherever in the file the import statement is."""
  package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
  targets = set()
  with open(path, encoding="utf-8") as f:
    tree = ast.parse(f.read())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      candidates = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parent = package.split(".")[:len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
      # `from pkg import mod` depends on pkg.mod; `from pkg import name` on pkg itself.
      candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names]
    else:
      continue
    for candidate in candidates:
      while candidate and candidate not in known:
        candidate = candidate.rpartition(".")[0]
      if candidate and candidate != name and candidate.startswith("squish_tf"):
        targets.add(candidate)
  return targets


def import_graph() -> dict:
  found = modules()
  return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict) -> list:
  """Every strongly connected component of more than one module (Tarjan)."""
  index, low, stack, on_stack, found = {}, {}, [], set(), []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in graph[node]:
      if nxt not in index:
        visit(nxt)
        low[node] = min(low[node], low[nxt])
      elif nxt in on_stack:
        low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
      component = []
      while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
          break
      if len(component) > 1:
        found.append(sorted(component))

  for node in sorted(graph):
    if node not in index:
      visit(node)
  return found


def test_the_cycle_finder_finds_a_cycle():
  graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
  assert cycles(graph) == [["a", "b", "c"]]
  assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package():
  graph = import_graph()
  assert "squish_tf.evolve.loop" in graph and graph["squish_tf.evolve.loop"]  # the parser sees
  assert cycles(graph) == []


def test_one_documented_subpackage_per_stage_and_few_top_level_modules():
  entries = os.listdir(PACKAGE)
  packages = {e for e in entries if os.path.isfile(os.path.join(PACKAGE, e, "__init__.py"))}
  assert packages == SUBPACKAGES
  for package in packages:
    with open(os.path.join(PACKAGE, package, "__init__.py"), encoding="utf-8") as f:
      docstring = ast.get_docstring(ast.parse(f.read()))
    assert docstring and len(docstring) > 40, f"{package}/__init__.py must say what it owns"
  top_level = [e for e in entries if e.endswith(".py") and e != "__init__.py"]
  assert len(top_level) <= MAX_TOP_LEVEL_MODULES, top_level


@pytest.mark.parametrize("module", sorted(modules()))
def test_keras3_modules_import_only_the_legacy_protocol(module):
  """A process holds one Keras: outside legacy/, only its process protocol may be imported."""
  if module.startswith("squish_tf.legacy"):
    return
  legacy = {m for m in import_graph()[module] if m.startswith("squish_tf.legacy")}
  assert legacy <= {"squish_tf.legacy", "squish_tf.legacy.worker"}, legacy
