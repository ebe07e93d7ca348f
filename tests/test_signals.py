"""Ctrl-C and SIGTERM are not lost when they land in a finalizer, where Python swallows them:
conversions, epochs and generations end by raising them again."""

import os
import signal
import sys

import pytest

from squish_tf import data, errors, train
from squish_tf.export import litert
from squish_tf.net import arch, model


class _Finalized:
  """An object whose `__del__` receives a signal, as TensorFlow's finalizers sometimes do."""

  def __init__(self, signum):
    self.signum = signum

  def __del__(self):
    os.kill(os.getpid(), self.signum)
    for _ in range(1000):  # the handler runs, and raises, between these bytecodes
      pass


@pytest.fixture(autouse=True)
def signals_not_ignored():
  """A suite started in the background (`.ci/run &` from a script) inherits SIGINT ignored,
  which signals_handled keeps: each test here starts from Python's own handlers."""
  before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
  signal.signal(signal.SIGINT, signal.default_int_handler)
  signal.signal(signal.SIGTERM, signal.SIG_DFL)
  yield
  for s, handler in before.items():
    signal.signal(s, handler)


def _swallowed(signum):
  _Finalized(signum)  # deleted at once: Python prints "Exception ignored in ..."


@pytest.mark.parametrize("signum,raised", [(signal.SIGINT, KeyboardInterrupt),
                                           (signal.SIGTERM, errors.Terminated)])
def test_a_signal_swallowed_by_a_finalizer_is_raised_again_by_check(signum, raised):
  before, hook = signal.getsignal(signum), sys.unraisablehook
  with errors.signals_handled():
    _swallowed(signum)  # nothing raised here: Python ignores exceptions in __del__
    with pytest.raises(raised):
      errors.check_signals()
  assert signal.getsignal(signum) is before and sys.unraisablehook is hook
  errors.check_signals()  # nothing remembered once the entry point has handled it


def test_a_signal_the_caller_ignores_stays_ignored():
  """`cmd &` in a script starts it with SIGINT ignored: Ctrl-C at the terminal is not for it."""
  before = signal.signal(signal.SIGINT, signal.SIG_IGN)
  try:
    with errors.signals_handled():
      assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
      assert signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
  finally:
    signal.signal(signal.SIGINT, before)


def test_conversion_and_training_end_on_a_swallowed_ctrl_c():
  spec = {k: max(4, v // 8) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  net = model.squeezenet(spec, image_size=32, seed=0)
  splits = data.load("digits", image_size=32, seed=0)
  with errors.signals_handled():
    _swallowed(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
      litert.to_tflite(net)
    with pytest.raises(KeyboardInterrupt):
      train.fit(net, splits, 2, 64, 1e-3, 0, verbose=0, validate_each_epoch=False)
    assert net.optimizer.iterations.numpy() == -(-splits.sizes["train"] // 64)  # one epoch
