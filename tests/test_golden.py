"""squish_tf.report.golden: the golden vectors the Android demo's JVM tests check against."""

import gzip
import io
import json
import os

import numpy as np
import pytest

from squish_tf import files
from squish_tf.data import preprocess
from squish_tf.errors import UserError
from squish_tf.export import litert
from squish_tf.report import golden

SIZE = 32


@pytest.fixture(scope="module")
def tflite_dir(tmp_path_factory):
  """A stand-in tflite/ release: one untrained 32x32 SqueezeNet, as squish-report lays it out."""
  from squish_tf.net import model
  root = tmp_path_factory.mktemp("tflite")
  d = root / "squishednet-1"
  d.mkdir()
  blob = litert.to_tflite(model.squeezenet(num_classes=10, image_size=SIZE, seed=0))
  (d / "model.tflite").write_bytes(blob)
  (d / "labels.txt").write_text("".join(f"class{i}\n" for i in range(10)))
  files.write_json(str(d / "preprocess.json"), preprocess.contract(SIZE))
  files.write_json(str(root / "models.json"),
                   [{"name": "squishednet-1", "dir": "squishednet-1", "top1": 0.1,
                     "bytes": len(blob)}])
  return root


@pytest.fixture(scope="module")
def images():
  return golden.sample_images(num_digits=1)


def test_sample_images_are_real_and_varied(images):
  shapes = {name: img.shape for name, img in images}
  assert shapes["china"] == (80, 120, 3) and shapes["flower_tall"] == (78, 51, 3)
  assert all(img.dtype == np.uint8 for _, img in images)
  digit = [img for name, img in images if name.startswith("digit")][0]
  assert digit.shape == (8, 8, 3) and digit.max() > 200  # a real 0..16 digit scaled to 0..255


def test_write_golden_reproduces_preprocessing_and_interpreter(tflite_dir, images, tmp_path):
  from PIL import Image
  model_dir = str(tflite_dir / "squishednet-1")
  manifest = golden.write_golden(model_dir, str(tmp_path), images)
  assert manifest["image_size"] == SIZE and manifest["format"] == golden.FORMAT
  assert json.loads((tmp_path / "golden.json").read_text()) == manifest
  assert files.read_json(str(tmp_path / "preprocess.json")) == preprocess.contract(SIZE)
  assert (tmp_path / "labels.txt").read_text().splitlines()[3] == "class3"
  interp = litert.interpreter(model_path=os.path.join(model_dir, "model.tflite"))
  for (name, image), entry in zip(images, manifest["images"]):
    assert entry["name"] == name
    png = np.asarray(Image.open(io.BytesIO((tmp_path / entry["png"]).read_bytes())))
    np.testing.assert_array_equal(png, image)  # lossless: the PNG is the image
    x = np.frombuffer(gzip.decompress((tmp_path / entry["input"]).read_bytes()), "<f4")
    expected = preprocess.preprocess(image, SIZE).numpy()
    np.testing.assert_array_equal(x.reshape(SIZE, SIZE, 3), expected)
    y = litert.predict(interp, expected[None])[0]
    np.testing.assert_allclose(entry["output"], y, rtol=0, atol=1e-6)
    top = [t["index"] for t in entry["top3"]]
    assert top == list(np.argsort(-y, kind="stable")[:3])
    assert [t["label"] for t in entry["top3"]] == [f"class{i}" for i in top]


def test_rewrite_removes_stale_images(tflite_dir, images, tmp_path):
  model_dir = str(tflite_dir / "squishednet-1")
  golden.write_golden(model_dir, str(tmp_path), images)
  golden.write_golden(model_dir, str(tmp_path), images[:1])
  assert sorted(os.listdir(tmp_path)) == ["china.input.f32.gz", "china.png", "golden.json",
                                          "labels.txt", "preprocess.json"]


def test_mismatched_labels_and_missing_files_are_user_errors(tflite_dir, images, tmp_path):
  bad = tmp_path / "bad"
  bad.mkdir()
  with pytest.raises(UserError, match="lacks model.tflite, labels.txt, preprocess.json"):
    golden.write_golden(str(bad), str(tmp_path / "out"), images)
  src = tflite_dir / "squishednet-1"
  for f in ("model.tflite", "preprocess.json"):
    (bad / f).write_bytes((src / f).read_bytes())
  (bad / "labels.txt").write_text("a\nb\n")
  with pytest.raises(UserError, match="2 labels but the model outputs 10"):
    golden.write_golden(str(bad), str(tmp_path / "out"), images)
  (bad / "labels.txt").write_bytes((src / "labels.txt").read_bytes())
  files.write_json(str(bad / "preprocess.json"), preprocess.contract(SIZE * 2))
  with pytest.raises(UserError, match="image_size 64"):
    golden.write_golden(str(bad), str(tmp_path / "out"), images)


def test_default_model_dir_reads_models_json(tflite_dir, tmp_path):
  assert golden.default_model_dir(str(tflite_dir)) == str(tflite_dir / "squishednet-1")
  assert golden.default_model_dir(str(tflite_dir), "squishednet-1").endswith("squishednet-1")
  with pytest.raises(UserError, match="no model 'nope'"):
    golden.default_model_dir(str(tflite_dir), "nope")
  with pytest.raises(UserError, match="models.json not found"):
    golden.default_model_dir(str(tmp_path))


def test_cli_reports_a_missing_release_in_one_line(tmp_path):
  import subprocess
  import sys
  proc = subprocess.run([sys.executable, "-m", "squish_tf.cli.golden", f"--tflite_dir={tmp_path}",
                         f"--out_dir={tmp_path / 'out'}"], capture_output=True, text=True,
                        timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "models.json not found" in proc.stderr
