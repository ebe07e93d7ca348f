"""Ctrl-C and SIGTERM that are never lost.

Python raises KeyboardInterrupt wherever the main thread is when the signal arrives. If that
is inside a finalizer (`__del__`, which TensorFlow's traced functions have), Python prints
"Exception ignored in ..." with a traceback and carries on: 3 of 40 Ctrl-Cs sent during a
TFLite conversion were lost that way, and the run went on. While `handled()` is active the
signal is also remembered (and finalizers' tracebacks are no longer printed: the run is
ending), and `check()`, called where a step of work ends (a conversion, an epoch, a
generation), raises it again.
"""

from __future__ import annotations

import contextlib
import signal
import sys

_received: type[KeyboardInterrupt] | None = None


class Terminated(KeyboardInterrupt):
  """SIGTERM (a scheduler's preemption, `kill`): unwound like Ctrl-C, so that worker
  processes are ended and temporary files removed on the way out."""


def _raise(signum, frame):
  global _received
  _received = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
  raise _received


@contextlib.contextmanager
def handled():
  """Ctrl-C raises KeyboardInterrupt and SIGTERM `Terminated`, both remembered for `check`;
  the earlier handlers come back on exit, with nothing remembered."""
  global _received
  before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  for s in before:
    signal.signal(s, _raise)
  hook = sys.unraisablehook

  def unraisable(info):
    # Ours, which `check` raises later, or a finalizer's of an object the signal left half
    # made (TensorFlow's import options: AttributeError): the run is ending anyway.
    if _received is None:
      hook(info)

  sys.unraisablehook = unraisable
  try:
    yield
  finally:
    for s, handler in before.items():
      signal.signal(s, handler)
    sys.unraisablehook = hook
    _received = None


def check() -> None:
  """Raises a Ctrl-C or SIGTERM that arrived under `handled()`, in case it was swallowed."""
  if _received is not None:
    raise _received()
