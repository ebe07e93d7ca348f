"""How a run ends early: a user's mistake, or a signal.

A UserError is raised where the mistake is found, with one line that names the problem and
the fix. Entry points (`squish_tf.cli.common.run`) print that line and exit 2; they catch
nothing else, so a bug inside the library still shows its traceback.

Ctrl-C and SIGTERM are never lost. Python raises KeyboardInterrupt wherever the main thread
is when the signal arrives. If that is inside a finalizer (`__del__`, which TensorFlow's
traced functions have), Python prints "Exception ignored in ..." with a traceback and carries
on: 3 of 40 Ctrl-Cs sent during a TFLite conversion were lost that way, and the run went on.
While `signals_handled()` is active (the entry points) the signal is also remembered (and
finalizers' tracebacks are no longer printed: the run is ending), and `check_signals()`,
called where a step of work ends (a conversion, an epoch, a generation), raises it again.
"""

from __future__ import annotations

import contextlib
import signal
import sys


class UserError(ValueError):
  """Bad input from the user (a flag, a path, a file, a data set): problem and fix, one line.

  A ValueError, so code that checks arguments with `except ValueError` also sees it.
  """


_received: type[KeyboardInterrupt] | None = None


class Terminated(KeyboardInterrupt):
  """SIGTERM (a scheduler's preemption, `kill`): unwound like Ctrl-C, so that worker
  processes are ended and temporary files removed on the way out."""


def _raise(signum, frame):
  global _received
  _received = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
  raise _received


@contextlib.contextmanager
def signals_handled():
  """Ctrl-C raises KeyboardInterrupt and SIGTERM `Terminated`, both remembered for
  `check_signals`; the earlier handlers come back on exit, with nothing remembered."""
  global _received
  before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  for s, handler in before.items():
    if handler is not signal.SIG_IGN:  # `cmd &` in a script ignores SIGINT: the caller's choice
      signal.signal(s, _raise)
  hook = sys.unraisablehook

  def unraisable(info):
    # Ours, which `check_signals` raises later, or a finalizer's of an object the signal left
    # half made (TensorFlow's import options: AttributeError): the run is ending anyway.
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


def check_signals() -> None:
  """Raises a Ctrl-C or SIGTERM that arrived under `signals_handled()`, in case it was
  swallowed."""
  if _received is not None:
    raise _received()
