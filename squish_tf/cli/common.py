"""What every entry point shares: flags with the same names everywhere (defined only when an
entry point asks), quiet library logs, and one line for a user's mistake.

An entry point defines its flags, then `run(main)`: `main` reads and checks the flags, calls
`start_tensorflow()` if it needs TensorFlow (`squish-bench` on .tflite files does not), then
one library function. Checking first makes a mistake in a flag's
value a one-line error in a fraction of a second instead of after TensorFlow's start (about
8 s on a 2-core machine). A `UserError` prints `error: <problem and fix>` and exits 2; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import signal
import sys

from absl import app, flags

from squish_tf import errors, logs
from squish_tf.errors import UserError


def define_data_flags() -> None:
  flags.DEFINE_string("dataset", "digits",
                      "digits (bundled, offline), imagenet10, folder:PATH, or a TFDS builder name.")
  flags.DEFINE_string("data_dir", None,
                      "TFDS data directory (and manual_dir parent for imagenet10).")
  flags.DEFINE_integer("image_size", 64, "Training input side in pixels (>= 32).", lower_bound=32)
  flags.DEFINE_integer("seed", 0, "Seed for splits, initialization, shuffling and sampling.")


def define_train_flags(epochs: int = 30) -> None:
  flags.DEFINE_integer("epochs", epochs, "Training epochs.", lower_bound=1)
  flags.DEFINE_integer("batch_size", 64, "Training batch size.", lower_bound=1)
  flags.DEFINE_float("learning_rate", 5e-4, "Peak Adam learning rate (cosine decay to 0).",
                     lower_bound=0.0)


def exit_on_user_error(main, takes_paths: bool = False, resume: str = ""):
  """Wraps an absl `main` so that a UserError prints one line and exits 2, Ctrl-C one line
  and 130, and SIGTERM one line and 143 (what finished is on disk already; `resume` says how
  to go on). Unless `main` `takes_paths`, a word that is not a flag is a mistake too (a flag
  missing its dashes would be ignored otherwise)."""
  @functools.wraps(main)
  def wrapper(argv):
    try:
      with errors.signals_handled():
        if len(argv) > 1 and not takes_paths:
          raise UserError(f"unexpected argument {argv[1]!r}; every setting is a flag, written "
                          f"--name=value (see --helpshort)")
        return main(argv)
    except UserError as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)
    except errors.Terminated:
      print(f"terminated: what had finished is kept{resume}", file=sys.stderr)
      sys.exit(128 + signal.SIGTERM)
    except KeyboardInterrupt:
      print(f"interrupted: what had finished is kept{resume}", file=sys.stderr)
      sys.exit(130)
  return wrapper


def take_saved_flags(workdir: str) -> None:
  """For --resume: each flag not on the command line takes the value the run saved in its
  config.json, so `--workdir=DIR --resume` alone goes on with the run's settings (a flag given
  is checked against them as before). A missing or damaged file is the run's checks' to tell."""
  from squish_tf import files, rundir
  try:
    saved = files.read_json(os.path.join(workdir, rundir.CONFIG))
  except (OSError, ValueError):
    return
  for name, value in saved.items() if isinstance(saved, dict) else ():
    flag = flags.FLAGS[name] if name in flags.FLAGS else None
    if flag is None or flag.present:
      continue
    default = flag.value
    try:  # parsed as a command line's value would be (setattr alone checks no type)
      setattr(flags.FLAGS, name, value if value is None else flag.parser.parse(value))
    except (flags.Error, TypeError, ValueError):  # left to the configuration check to tell
      flag.value = default


def parse_flags(argv: list[str]) -> list[str]:
  """absl's flag parsing, except that a bad flag is one line and exit 2, like every other
  mistake (absl's own parser prints two lines and exits 1)."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    print(f"error: {' '.join(str(e).split()).rstrip('.')}; see --helpshort", file=sys.stderr)
    sys.exit(2)


def start_tensorflow() -> None:
  """Imports TensorFlow with its start-up lines muted: `main` calls it once its flags are
  checked, before it imports anything that imports TensorFlow."""
  logs.start_tensorflow_quietly()


def _help_as_for(module: str) -> None:
  """--help and --helpshort show the main module's docstring and flags, which absl looks up
  as __main__ and by the name sys.argv[0]. A console script's main module is its launcher
  (bin/squish-evolve), which has neither: it gets `module`'s docstring, and the flags `module`
  and this module defined for it are registered under its name too."""
  launcher = sys.modules["__main__"]
  if not launcher.__doc__:
    launcher.__doc__ = sys.modules[module].__doc__
  for name in (module, __name__):
    for flag in flags.FLAGS.get_key_flags_for_module(name):
      flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def run(main, takes_paths: bool = False, resume: str = "") -> None:
  """Runs an absl `main` with quiet library logs; user errors print one line and exit 2.
  `takes_paths`: `main` reads the words after the flags (squish-bench's files); `resume`:
  what to say after Ctrl-C about going on."""
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported
  # Worker processes (--executor=process) share the GPU: a driver that took it all at start-up
  # would leave them none. Spawned processes inherit the setting.
  os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

  def quiet_main(argv):
    logs.quiet_libraries()
    return main(argv)

  _help_as_for(main.__module__)
  app.run(exit_on_user_error(quiet_main, takes_paths, resume), flags_parser=parse_flags)
