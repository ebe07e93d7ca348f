"""Every relative link in the project's Markdown reaches a file, and its #anchor a heading there.

The README links into the experiment log (benchmarks/results/README.md) and the docs by heading
anchors; a renamed heading or a moved section would otherwise break them silently.
"""

import functools
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
  """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to -."""
  text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
  return text.replace(" ", "-")


@functools.cache  # one read per file, however many links point into it
def anchors(path: str) -> frozenset:
  with open(path, encoding="utf-8") as f:
    return frozenset(slug(line.lstrip("#")) for line in f if line.startswith("#"))


def markdown_files():
  names = ["README.md", "docs/*.md", "benchmarks/results/*.md", "tflite/*.md",
           "android_demo/*.md"]
  return sorted(p for n in names for p in glob.glob(os.path.join(ROOT, n)))


def broken_links(path: str):
  with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
  for number, line in enumerate(lines, 1):
    for target in LINK.findall(line):
      if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
        continue
      file_part, _, anchor = target.partition("#")
      full = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
      if not os.path.exists(full):
        yield f"{os.path.relpath(path, ROOT)}:{number}: no file {target}"
      elif anchor and full.endswith(".md") and anchor not in anchors(full):
        yield f"{os.path.relpath(path, ROOT)}:{number}: no heading for #{anchor} in {target}"


def test_slug_follows_github():
  assert slug(" Pressure where the MACs are: `--mac_pressure=0.25` (`--tag=mp025`)") == (
      "pressure-where-the-macs-are---mac_pressure025---tagmp025")


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(path):
  assert list(broken_links(path)) == []


def test_a_broken_anchor_is_found(tmp_path):
  page = tmp_path / "page.md"
  page.write_text("# Title\n\n[ok](#title) [bad](#nowhere) [gone](missing.md)\n")
  found = list(broken_links(str(page)))
  assert len(found) == 2 and "#nowhere" in found[0] and "missing.md" in found[1]
