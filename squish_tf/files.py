"""Atomic writes and plain-file reads: a reader (or a resumed run) never sees half a file.

Everything squish_tf writes goes through `atomic_path` (one file) or `atomic_dir` (a
directory such as a SavedModel or a release): the content is written beside the target
and renamed over it only when it is complete. `hold` keeps a second process out of a run
directory while one works in it, and removes what killed writers left there.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile

from absl import logging

from squish_tf.errors import UserError

# One compression level for every "gzipped size" the project reports: what a download or
# an APK's compression saves on a file.
GZIP_LEVEL = 9


def _umask() -> int:
  umask = os.umask(0)
  os.umask(umask)
  return umask


@functools.cache  # one per process: its host and namespace do not change under it
def _writer() -> str:
  """This process's host and PID namespace: where its PID means this process. (A container
  may share a host's name and folders but not its PIDs.)"""
  try:
    namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")
  except OSError:  # not Linux
    namespace = ""
  return f"{socket.gethostname()}~{namespace}"


def _temp_prefix(kind: str, target: str = "") -> str:
  """".tmp-PID@WRITER+" (or ".old-", the replaced copy of `target`): whose write a file beside
  its target is, so that one a killed process left can be told from one that another process
  is writing now. "+" ends the writer: no host name holds one."""
  return f".{kind}-{os.getpid()}@{_writer()}+{target + '-' if target else ''}"


# kind, pid, writer, then for .old- the replaced target's name: mkdtemp adds letters, digits
# and "_" after the "-" that ends it
_LEFTOVER = re.compile(r"\.(tmp|old)-(\d+)@([^+/]*)\+(?:(.+)-[a-z0-9_]*)?")


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except (ProcessLookupError, OverflowError):
    return False
  except PermissionError:  # another user's process
    return True
  return True


def remove_leftovers(directory: str, depth: int = 2) -> list[str]:
  """Clears what writers of this host (and PID namespace) killed mid-write left in
  `directory` and its subdirectories, `depth` levels down; returns the paths. A temporary
  file or directory is removed. A replaced directory (".old-") is put back if its target is
  missing (killed between the two renames of `atomic_dir`: it is the only copy), else
  removed. The writes of processes still running, or of other hosts, are left alone."""
  cleared, writer = [], _writer()
  try:
    entries = list(os.scandir(directory))
  except OSError:  # a folder this user cannot read holds nothing of ours
    return cleared
  dead, old = [], {}  # old: target -> its replaced copies
  for entry in entries:
    match = _LEFTOVER.match(entry.name)
    if match and match.group(3) == writer and not _alive(int(match.group(2))):
      dead.append(entry)
      if match.group(1) == "old" and match.group(4):
        old.setdefault(os.path.join(directory, match.group(4)), []).append(entry)
    elif depth > 1 and entry.is_dir(follow_symlinks=False):
      cleared += remove_leftovers(entry.path, depth - 1)
  for target, copies in old.items():
    if not os.path.lexists(target):  # the newest copy, should two kills have left two
      newest = max(copies, key=lambda e: e.stat(follow_symlinks=False).st_mtime)
      try:
        os.rename(newest.path, target)  # not over anything that appeared meanwhile
      except OSError:  # another process put it back first, or it is not ours to move
        continue
      dead.remove(newest)
      cleared.append(newest.path)
      logging.warning("put %s back, from %s (a write killed while replacing it)", target,
                      newest.name)
  for entry in dead:
    try:
      if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
      else:
        os.remove(entry.path)
    except OSError:  # another process removed it first, or it is not ours to remove
      continue
    cleared.append(entry.path)
  return cleared


@contextlib.contextmanager
def atomic_path(path: str):
  """Yields a temporary path beside `path`; renames it over `path` only on success."""
  if os.path.isdir(path):
    raise UserError(f"{path} is a directory; give the path of a file to write")
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  # keep every extension: Keras checks ".keras" and ".weights.h5" on save
  name = os.path.basename(path)
  suffix = name[name.find(".", 1):] if "." in name[1:] else ""
  fd, tmp = tempfile.mkstemp(dir=directory, prefix=_temp_prefix("tmp"), suffix=suffix)
  os.close(fd)
  os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a released file reads like any other
  try:
    yield tmp
    with open(tmp, "rb") as f:
      os.fsync(f.fileno())
    os.replace(tmp, path)
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)


def _check_dir_name(path: str, flag: str) -> None:
  """A directory flag that is empty ("" would mean the current directory) or names a file."""
  if not path:
    raise UserError(f"{flag} is empty; name a directory")
  if os.path.lexists(path) and not os.path.isdir(path):
    what = "a symbolic link to nothing" if os.path.islink(path) else "a file"
    raise UserError(f"{flag}={path} is {what}; name a directory")


def check_replaceable(path: str, holds: str, flag: str) -> None:
  """Refuses a `path` that `atomic_dir` must not replace: a file, or a directory holding
  something other than an earlier write of the same kind (one that matches the glob
  `holds`, e.g. models.json for a release). A run directory or a user's folder named by
  mistake is then refused, not deleted."""
  _check_dir_name(path, flag)
  if not os.path.lexists(path):
    return
  if os.path.lexists(os.path.join(path, LOCK)):
    raise UserError(f"{flag}={path} is a run directory ({LOCK}), and it would be replaced whole; "
                    f"name a new or empty directory")
  if os.listdir(path) and not glob.glob(os.path.join(glob.escape(path), holds)):
    raise UserError(f"{flag}={path} holds other files (no {holds}), and it would be replaced "
                    f"whole; name a new or empty directory")


@contextlib.contextmanager
def atomic_dir(path: str, holds: str, flag: str):
  """Yields a temporary directory beside `path`; it replaces `path` whole, only on success.

  A reader never sees a half-written SavedModel, engine bundle or release, and a failed
  write leaves the old one in place. `path` must pass `check_replaceable(path, holds, flag)`.
  What earlier writes killed on the way left beside it is removed first.
  """
  parent = os.path.dirname(os.path.abspath(path))
  if os.path.isdir(parent):  # first: a release put back must pass the check below
    remove_leftovers(parent, depth=1)
  check_replaceable(path, holds, flag)
  path = os.path.abspath(path)  # "." cannot be renamed; its absolute path can
  os.makedirs(parent, exist_ok=True)
  name = os.path.basename(path)
  tmp = tempfile.mkdtemp(dir=parent, prefix=_temp_prefix("tmp", name))
  os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would hide a deliverable from other users
  try:
    yield tmp
    old = None
    try:
      if os.path.lexists(path):  # os.replace cannot overwrite a non-empty directory
        old = tempfile.mkdtemp(dir=parent, prefix=_temp_prefix("old", name))
        os.rmdir(old)
        os.replace(path, old)
      os.replace(tmp, path)
    except BaseException:  # Ctrl-C between the renames: the earlier one goes back
      if old is not None and os.path.lexists(old) and not os.path.lexists(path):
        os.replace(old, path)
      raise
    if old is not None:
      shutil.rmtree(old) if os.path.isdir(old) else os.remove(old)
  finally:
    shutil.rmtree(tmp, ignore_errors=True)


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


def read_json_or_say(path: str, fix: str):
  """read_json; a damaged file is a UserError naming it and `fix`."""
  try:
    return read_json(path)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise UserError(f"{path} is damaged (not valid JSON: {e}); {fix}") from None


def write_jsonl(path: str, records: list[dict]) -> None:
  write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


def append_jsonl(path: str, record: dict) -> None:
  """Appends one JSON line by rewriting the file atomically (files here are small)."""
  write_jsonl(path, read_jsonl(path) + [record])


def read_jsonl(path: str) -> list[dict]:
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def digest(data: bytes) -> str:
  """The SHA-256 a written file's figures record, so that a damaged copy is told apart."""
  return hashlib.sha256(data).hexdigest()


def sizes(path: str) -> dict:
  """Bytes and gzipped bytes of a file, or of all files of a directory together."""
  paths = ([path] if os.path.isfile(path) else
           sorted(os.path.join(d, f) for d, _, names in os.walk(path) for f in names))
  data = b""
  for p in paths:
    with open(p, "rb") as f:
      data += f.read()
  return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, compresslevel=GZIP_LEVEL))}


LOCK = ".lock"  # in a run directory; what holds it is written inside
_HELD: dict[str, int] = {}  # directory (real path) -> descriptor of each lock this process holds


def hold(path: str, what: str, refuse=lambda: None) -> None:
  """Locks the existing directory `path` for `what` until `release` or this process's end
  (however it ends: the lock goes with the process). A second process on the same run would
  delete or overwrite what the first is writing, so it is refused in one line. Holding a
  directory this process holds already only runs `refuse`. A directory taken is rid of the
  temporary files killed writers left (`remove_leftovers`).

  `refuse()` raises for a directory that must not be used. Where there is no lock file yet it
  runs first, so that a refused directory gets none; and it runs again under the lock, since
  another process may have changed the directory in between."""
  key = os.path.realpath(path)
  if key in _HELD:
    refuse()
    return
  lock = os.path.join(path, LOCK)
  if not os.path.lexists(lock):
    refuse()
  fd = _open_lock(path, lock)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
    os.close(fd)
    raise UserError(f"{path} is in use by {holder}; wait for it to end, or choose another "
                    f"--workdir") from None
  except OSError as e:  # a file system without locks (some network mounts): go on unguarded
    logging.warning("%s cannot be locked (%s): make sure no other run uses it", path,
                    e.strerror)
  _HELD[key] = fd
  try:
    refuse()
  except BaseException:
    release(path)
    raise
  for leftover in remove_leftovers(path):
    logging.info("cleared %s, which a killed write left", leftover)
  with contextlib.suppress(OSError):  # a read-only lock file cannot name its holder
    os.ftruncate(fd, 0)
    os.write(fd, f"{what} (pid {os.getpid()})\n".encode())


def _open_lock(path: str, lock: str) -> int:
  try:
    try:
      return os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    except PermissionError:  # another user's lock file: flock needs no write access
      return os.open(lock, os.O_RDONLY)
  except OSError as e:
    raise UserError(f"cannot lock {path}: {lock}: {e.strerror}; make {lock} a file this user "
                    f"can read, or choose another --workdir") from None


def release(path: str) -> None:
  """Ends `hold` on `path`, if this process holds it."""
  fd = _HELD.pop(os.path.realpath(path), None)
  if fd is not None:
    os.close(fd)  # closing the descriptor drops the lock


def ensure_writable_dir(path: str, flag: str = "--workdir") -> None:
  """Creates `path` if needed; a directory that cannot be written is a UserError."""
  _check_dir_name(path, flag)
  try:
    os.makedirs(path, exist_ok=True)
    probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-")
    probe.close()
  except OSError as e:
    raise UserError(f"{path} is not writable ({e.strerror}); choose another {flag}") from None
