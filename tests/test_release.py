"""The committed tflite/ release: every checksum, the tensor contract each file declares, each
model's recorded predictions on the check images, and the golden vectors made from it.

A republished model without regenerated golden vectors (or a hand-edited file) fails here,
before the Android demo's JVM tests would silently check an old model. Nothing here depends
on a machine reproducing the released bytes: the files are checked as committed.
"""

import gzip
import hashlib
import json
import os

import numpy as np
import pytest

from squish_tf.data import preprocess
from squish_tf.export import runtime
from squish_tf.report import publish

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "tflite")
GOLDEN = os.path.join(ROOT, "android_demo", "core", "src", "test", "resources", "golden")


def _json(path):
  with open(path, encoding="utf-8") as f:
    return json.load(f)


INDEX = _json(os.path.join(RELEASE, "models.json"))
FILES = [(m, f) for m in INDEX["models"] for f in m["files"]]


def _blob(model, entry):
  with open(os.path.join(RELEASE, model["dir"], entry["file"]), "rb") as f:
    return f.read()


def test_the_release_is_a_fashion_mnist_evolution_with_float32_and_int8_files():
  assert INDEX["format"] == publish.MODELS_FORMAT
  assert INDEX["dataset"].startswith("fashion_mnist")
  assert INDEX["models"]
  for model in INDEX["models"]:
    assert sorted(f["precision"] for f in model["files"]) == ["float32", "int8"]
    d = os.path.join(RELEASE, model["dir"])
    labels = open(os.path.join(d, model["labels"]), encoding="utf-8").read().splitlines()
    assert len(labels) == model["num_classes"] == 10
    assert _json(os.path.join(d, model["preprocess"])) == preprocess.contract(model["image_size"])


def test_released_widths_are_multiples_of_the_default_channel_multiple():
  from squish_tf import config
  from squish_tf.net import arch
  multiple = config.EvolveConfig().channel_multiple
  for model in INDEX["models"]:
    spec = _json(os.path.join(RELEASE, model["dir"], "model.json"))["spec"]
    assert spec[arch.HEAD] == model["num_classes"]
    assert {n: w for n, w in spec.items() if n != arch.HEAD and w % multiple} == {}


@pytest.mark.parametrize("model,entry", FILES, ids=lambda x: x.get("file", x.get("dir")))
def test_each_file_stores_no_inert_taps(model, entry):
  """At the release size the 3x3 layers that only see one pixel are stored as 1x1."""
  from squish_tf.net import arch
  stored = runtime.folded_layers(runtime.interpreter(model_content=_blob(model, entry)))
  assert sorted(stored) == sorted(arch.inert_taps(model["image_size"]))


@pytest.mark.parametrize("model,entry", FILES, ids=lambda x: x.get("file", x.get("dir")))
def test_checksum_size_and_tensor_contract(model, entry):
  blob = _blob(model, entry)
  assert hashlib.sha256(blob).hexdigest() == entry["sha256"]
  assert len(blob) == entry["bytes"]
  declared = {k: entry[k] for k in ("input", "output")}
  assert publish.tensor_contract(blob) == declared
  size = model["image_size"]
  assert entry["input"]["shape"] == [1, size, size, 3]
  assert entry["output"]["shape"] == [1, model["num_classes"]]
  assert entry["input"]["dtype"] == ("float32" if entry["precision"] == "float32" else "int8")


@pytest.fixture(scope="module")
def check_images():
  with np.load(os.path.join(RELEASE, INDEX["check_images"]["file"])) as saved:
    images, labels = saved["images"], saved["labels"]
  size = INDEX["models"][0]["image_size"]
  x = np.stack([preprocess.preprocess(im, size).numpy() for im in images])
  return x, labels


@pytest.mark.parametrize("model,entry", FILES, ids=lambda x: x.get("file", x.get("dir")))
def test_each_file_reproduces_its_recorded_predictions_through_litert(model, entry,
                                                                      check_images):
  x, y = check_images
  assert len(y) == INDEX["check_images"]["images"] == len(entry["check"]["predictions"])
  got = runtime.predict(runtime.interpreter(model_content=_blob(model, entry)), x).argmax(1)
  np.testing.assert_array_equal(got, entry["check"]["predictions"])
  assert float(np.mean(got == y)) == pytest.approx(entry["check"]["top1"], abs=1e-9)


def test_golden_vectors_come_from_the_released_files():
  variants = sorted(os.listdir(GOLDEN))
  assert variants, "no golden vectors: run squish-golden --tflite_dir=tflite"
  released = {(m["dir"], f["file"]): (m, f) for m, f in FILES}
  for variant in variants:
    spec = _json(os.path.join(GOLDEN, variant, "golden.json"))
    key = (spec["model"]["dir"], spec["model"]["file"])
    assert key in released, f"{variant} is not of a released file: run squish-golden"
    model, entry = released[key]
    assert spec["model"]["sha256"] == entry["sha256"], (
        "golden vectors are stale: run squish-golden --tflite_dir=tflite")
    interp = runtime.interpreter(model_content=_blob(model, entry))
    size = spec["image_size"]
    for image in spec["images"]:
      with gzip.open(os.path.join(GOLDEN, variant, image["input"])) as f:
        x = np.frombuffer(f.read(), "<f4").reshape(1, size, size, 3)
      got = runtime.predict(interp, x)[0]
      np.testing.assert_array_equal(got, np.float32(image["output"]))
  manifests = [_json(os.path.join(GOLDEN, v, "golden.json"))["model"] for v in variants]
  assert sorted(m["precision"] for m in manifests) == ["float32", "int8"]
  assert len({m["dir"] for m in manifests}) == 1  # both files of one released model
