"""The one exception type for a user's mistake.

A UserError is raised where the mistake is found, with one line that names the problem and
the fix. Entry points (`squish_tf.cli.common.run`) print that line and exit 2; they catch
nothing else, so a bug inside the library still shows its traceback.
"""


class UserError(ValueError):
  """Bad input from the user (a flag, a path, a file, a data set): problem and fix, one line.

  A ValueError, so code that checks arguments with `except ValueError` also sees it.
  """
