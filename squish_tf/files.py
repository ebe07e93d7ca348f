"""Atomic file writes: a reader (or a resumed run) never sees half a file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path: str):
  """Yields a temporary path beside `path`; renames it over `path` only on success."""
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  suffix = os.path.splitext(path)[1]  # keep the extension: Keras checks it on save
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
  os.close(fd)
  umask = os.umask(0)
  os.umask(umask)
  os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a released file should read like any other
  try:
    yield tmp
    with open(tmp, "rb") as f:
      os.fsync(f.fileno())
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def write_bytes(path: str, data: bytes) -> None:
  with atomic_path(path) as tmp, open(tmp, "wb") as f:
    f.write(data)


def write_text(path: str, text: str) -> None:
  write_bytes(path, text.encode("utf-8"))


def write_json(path: str, obj) -> None:
  write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str):
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def append_jsonl(path: str, record: dict) -> None:
  """Appends one JSON line by rewriting the file atomically (files here are small)."""
  old = b""
  if os.path.exists(path):
    with open(path, "rb") as f:
      old = f.read()
  write_bytes(path, old + (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))


def read_jsonl(path: str) -> list[dict]:
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def ensure_writable_dir(path: str) -> None:
  """Creates `path` if needed; a directory we cannot write is a UserError."""
  from squish_tf.errors import UserError
  try:
    os.makedirs(path, exist_ok=True)
    probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-")
    probe.close()
  except OSError as e:
    raise UserError(f"work directory {path} is not writable ({e.strerror}); "
                    f"choose another --workdir") from None
