"""tfmot QAT in its own legacy-Keras process: rebuild parity, toy run end to end, sparsity."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from squish_tf import data, train
from squish_tf.errors import UserError
from squish_tf.evolve import masking
from squish_tf.export import litert, qat, runtime
from squish_tf.legacy import worker
from squish_tf.net import arch, model


@pytest.fixture(scope="module")
def digits():
  splits = data.load("digits", 32, seed=0)
  return data.as_numpy(splits.train), data.as_numpy(splits.validation)


@pytest.fixture(scope="module")
def masked_net(digits):
  """A half-width net trained 4 epochs; its weakest 30% of synapses per layer then masked."""
  (x, y), (vx, vy) = digits
  keras.utils.set_random_seed(0)
  spec = {k: max(4, v // 2) for k, v in arch.ancestor_spec(10).items()} | {arch.HEAD: 10}
  net = model.squeezenet(spec, image_size=32, seed=0, dropout=0.1)
  train.compile_model(net, 1e-3, 4 * len(x) // 32)
  net.fit(x, y, batch_size=32, epochs=4, verbose=0)
  # At 3e-3 this net stayed at chance (8.9%), predicting about 0.1 for every class of every
  # image: rebuild and QAT checks on it compared near-constant outputs.
  assert np.mean(np.argmax(net.predict(vx, verbose=0), 1) == vy) > 0.5, "the toy net is untrained"
  masks = {n: np.abs(k) > np.quantile(np.abs(k), 0.3)
           for n, (k, _) in model.get_weights(net).items()}
  masking.apply_masks(net, masks)
  masking.strip_masks(net)
  return net, masks


def test_main_process_never_loads_legacy_keras(masked_net):
  assert "tf_keras" not in sys.modules and "tensorflow_model_optimization" not in sys.modules


def test_legacy_rebuild_predicts_what_keras3_predicts(masked_net, digits):
  net, _ = masked_net
  _, (vx, _) = digits
  images = vx[:64]
  got = qat.legacy_predict(net, images)
  # Same graph and weights in another Keras: float rounding only.
  np.testing.assert_allclose(got, net.predict(images, verbose=0), atol=1e-5)


def test_toy_qat_end_to_end_keeps_masks_and_runs_in_litert(masked_net, digits, tmp_path):
  net, masks = masked_net
  (x, y), (vx, vy) = digits
  out = tmp_path / "qat.tflite"
  # min_agreement: the toy model's int8 argmax ties with the QAT model's (see test_quantize).
  figures = qat.run_qat(net, str(out), x[:200], y[:200], vx, vy, masks=masks, epochs=1,
                        min_agreement=0.8)
  assert figures["prune_preserve"] and figures["rebuild_max_abs_diff"] <= 1e-4
  assert figures["masked_weights"] > 0
  assert figures["masked_nonzero_after_qat"] == 0  # tfmot kept every dead synapse at zero
  sidecar = json.loads((tmp_path / "qat.tflite.json").read_text())
  # written through int8.write_verified, whose refusal below the bar test_quantize tests
  assert sidecar["bytes"] == out.stat().st_size and sidecar["min_agreement"] == 0.8
  interp = runtime.interpreter(model_path=str(out))
  assert np.dtype(interp.get_input_details()[0]["dtype"]).name == "int8"
  # the tensor names an app reads, as in every float32 and int8 file (litert.converter)
  assert interp.get_signature_list() == {"serving_default": {"inputs": ["image"],
                                                             "outputs": ["output_0"]}}
  assert runtime.top1(str(out), vx, vy) == pytest.approx(figures["top1_qat_int8"])
  # Like every file at 32x32 it stores no inert taps: fire6-9's expand3x3 as 1x1.
  assert sorted(runtime.folded_layers(interp)) == sorted(arch.inert_taps(32))
  # int8 against float32, both folded; per-channel scales weigh more in this small file (2.35x).
  assert out.stat().st_size < len(litert.to_tflite(net)) / 2


def test_a_rebuild_that_predicts_otherwise_is_refused_in_one_line(masked_net, digits):
  """The worker checks its tf_keras rebuild against the Keras 3 network's predictions before
  any work; masks that do not belong to the weights (here conv1 all dead) fail that check."""
  net, masks = masked_net
  _, (vx, _) = digits
  wrong = dict(masks, conv1=np.zeros_like(masks["conv1"]))
  with pytest.raises(RuntimeError, match=r"^[^\n]*qat_worker failed: RuntimeError: the tf_keras "
                                         r"rebuild predicts differently[^\n]*$"):
    qat.legacy_predict(net, vx[:16], masks=wrong)


FAILING_WORKER = """
import sys
from squish_tf.errors import UserError
from squish_tf.legacy import worker

def run(workdir):
  raise {error}("the first line\\n  and the second")

sys.exit(worker.serve(sys.argv, "python -m failing_worker", run))
"""


@pytest.mark.parametrize("error,raised", [("UserError", UserError), ("ValueError", ValueError),
                                          ("OSError", RuntimeError)])
def test_worker_errors_come_back_as_one_line(tmp_path, monkeypatch, error, raised):
  """What a legacy-Keras worker raises reaches the driver as the same UserError or ValueError,
  anything else as a RuntimeError naming it, each in one line (a stand-in worker that fails
  at once; the real worker's refusal is the test above). A QAT file refused at the end is
  int8.write_verified's UserError (test_quantize) through this transport."""
  (tmp_path / "failing_worker.py").write_text(FAILING_WORKER.format(error=error))
  monkeypatch.setenv("PYTHONPATH", str(tmp_path))
  workdir = tmp_path / "work"
  workdir.mkdir()
  with pytest.raises(raised) as e:
    worker.run_worker("failing_worker", str(workdir))
  assert type(e.value) is raised and "\n" not in str(e.value)
  assert "the first line and the second" in str(e.value)
  assert not (workdir / "result.json").exists()
  # what the worker prints (squish-export shows it): a traceback for a bug, none for a mistake
  proc = subprocess.run([sys.executable, "-m", "failing_worker", str(workdir)],
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 1 and ("Traceback" in proc.stderr) == (raised is not UserError)


def test_bad_inputs_are_named(masked_net, tmp_path):
  net, masks = masked_net
  with pytest.raises(UserError, match="no such .keras"):
    qat.run_qat(str(tmp_path / "nope.keras"), str(tmp_path / "q.tflite"))
  with pytest.raises(UserError, match=".tflite path"):
    qat.run_qat(net, str(tmp_path / "q.bin"), np.zeros((1, 32, 32, 3)), [0],
                np.zeros((1, 32, 32, 3)), [0])
  bad = dict(masks, conv1=np.ones((1, 1, 1, 1), bool))
  with pytest.raises(ValueError, match="conv1: mask shape"):
    qat.run_qat(net, str(tmp_path / "q.tflite"), np.zeros((1, 32, 32, 3)), [0],
                np.zeros((1, 32, 32, 3)), [0], masks=bad)
