"""The committed tflite/ release is whole, follows its contract, and matches the golden vectors.

A republished model without regenerated golden vectors (or a hand-edited file) fails here,
before the Android demo's JVM tests would silently check an old model.
"""

import gzip
import hashlib
import json
import os

import numpy as np
import pytest

from squish_tf.data import preprocess
from squish_tf.export import litert

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "tflite")
GOLDEN = os.path.join(ROOT, "android_demo", "core", "src", "test", "resources", "golden")


def _json(path):
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def _models():
  return _json(os.path.join(RELEASE, "models.json"))


def test_every_listed_model_is_complete_and_runs():
  models = _models()
  assert models, "tflite/models.json lists no model"
  for entry in models:
    d = os.path.join(RELEASE, entry["dir"])
    blob = open(os.path.join(d, "model.tflite"), "rb").read()
    assert len(blob) == entry["bytes"]
    labels = open(os.path.join(d, "labels.txt"), encoding="utf-8").read().splitlines()
    assert len(labels) == entry["num_classes"]
    assert _json(os.path.join(d, "preprocess.json")) == preprocess.contract(entry["image_size"])
    interp = litert.interpreter(model_content=blob)
    shape = tuple(interp.get_input_details()[0]["shape"])
    assert shape[1:] == (entry["image_size"], entry["image_size"], 3)
    probs = litert.predict(interp, np.zeros((2, *shape[1:]), np.float32))
    assert probs.shape == (2, entry["num_classes"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_golden_vectors_come_from_the_released_model():
  spec = _json(os.path.join(GOLDEN, "golden.json"))
  path = os.path.join(RELEASE, spec["model"]["dir"], "model.tflite")
  blob = open(path, "rb").read()
  assert hashlib.sha256(blob).hexdigest() == spec["model"]["sha256"], (
      "golden vectors are stale: run squish-golden --tflite_dir=tflite")
  interp = litert.interpreter(model_content=blob)
  size = spec["image_size"]
  for image in spec["images"]:
    with gzip.open(os.path.join(GOLDEN, image["input"])) as f:
      x = np.frombuffer(f.read(), "<f4").reshape(1, size, size, 3)
    got = litert.predict(interp, x)[0]
    np.testing.assert_allclose(got, image["output"], atol=1e-5)
    assert [t["index"] for t in image["top3"]] == list(np.argsort(-got)[:3])


@pytest.mark.parametrize("entry", _models(), ids=lambda e: e["dir"])
def test_released_model_matches_its_recorded_accuracy_on_digits(entry):
  """Each released model reproduces, through LiteRT, the test top-1 its table reports."""
  from squish_tf import data
  meta = _json(os.path.join(RELEASE, entry["dir"], "model.json"))
  # The committed release is the README's main job, on the bundled data, so CI can check it.
  assert meta["dataset"] == "digits", (
      f"tflite/ was published from a {meta['dataset']} run; publish the default digits run "
      f"(README's first command) so the release can be checked offline")
  splits = data.load("digits", entry["image_size"], None, meta["data_seed"])
  x, y = data.as_numpy(splits.test)
  interp = litert.interpreter(model_path=os.path.join(RELEASE, entry["dir"], "model.tflite"))
  top1 = float(np.mean(litert.predict(interp, x).argmax(1) == y))
  assert top1 == pytest.approx(entry["top1"], abs=1e-4)
