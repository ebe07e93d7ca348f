"""The one exception type a user's mistake raises, and how entry points report it."""

from __future__ import annotations

import functools
import sys


class UserError(Exception):
  """Bad input from the user: the message names the problem and the fix, in one line."""


def exit_on_user_error(main):
  """Wraps an absl `main` so a UserError (or ValueError from argument checks) prints one line.

  Anything else is a bug and keeps its traceback.
  """
  @functools.wraps(main)
  def wrapper(argv):
    try:
      return main(argv)
    except (UserError, ValueError) as e:
      print(f"error: {e}", file=sys.stderr)
      sys.exit(2)
  return wrapper
