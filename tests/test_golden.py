"""squish_tf.report.golden: the golden vectors the Android demo's JVM tests check against."""

import gzip
import io
import json
import os

import numpy as np
import pytest

from squish_tf import files
from squish_tf.data import preprocess
from squish_tf.export import int8, litert, runtime
from squish_tf.report import golden

SIZE = 32


@pytest.fixture(scope="module")
def tflite_dir(tmp_path_factory):
  """A stand-in release: one untrained 32x32 SqueezeNet, float32 and int8, as squish-report
  lays it out."""
  from squish_tf.net import model
  root = tmp_path_factory.mktemp("tflite")
  d = root / "squishednet-1"
  d.mkdir()
  net = model.squeezenet(num_classes=10, image_size=SIZE, seed=0)
  (d / "model.tflite").write_bytes(litert.to_tflite(net))
  rep = np.random.default_rng(0).random((16, SIZE, SIZE, 3)).astype(np.float32)
  (d / "model_int8.tflite").write_bytes(int8.convert_int8(net, rep))
  (d / "labels.txt").write_text("".join(f"class{i}\n" for i in range(10)))
  files.write_json(str(d / "preprocess.json"), preprocess.contract(SIZE))
  files.write_json(str(root / "models.json"),
                   {"format": "squish_tf.models/2",
                    "models": [{"name": "squishednet-1", "dir": "squishednet-1"}]})
  return root


@pytest.fixture(scope="module")
def images():
  return golden.sample_images(num_test=1)


def test_sample_images_are_real_and_varied(images):
  shapes = {name: img.shape for name, img in images}
  assert shapes["china"] == (80, 120, 3) and shapes["flower_tall"] == (78, 51, 3)
  assert all(img.dtype == np.uint8 for _, img in images)
  digit = [img for name, img in images if name.startswith("digit")][0]
  assert digit.shape == (8, 8, 3) and digit.max() > 200  # a real 0..16 digit scaled to 0..255


def test_float32_and_int8_variants_reproduce_preprocessing_and_the_interpreter(tflite_dir, images,
                                                                              tmp_path):
  from PIL import Image
  model_dir = str(tflite_dir / "squishednet-1")
  manifests = golden.write_golden(model_dir, str(tmp_path / "golden"), images)
  assert sorted(os.listdir(tmp_path / "golden")) == ["squishednet-1_float32",
                                                      "squishednet-1_int8"]
  for manifest in manifests:
    precision = manifest["model"]["precision"]
    out = tmp_path / "golden" / f"squishednet-1_{precision}"
    assert manifest["format"] == golden.FORMAT and manifest["image_size"] == SIZE
    assert json.loads((out / "golden.json").read_text()) == manifest
    assert files.read_json(str(out / "preprocess.json")) == preprocess.contract(SIZE)
    assert (out / "labels.txt").read_text().splitlines()[3] == "class3"
    interp = runtime.interpreter(model_path=os.path.join(model_dir, manifest["model"]["file"]))
    for (name, image), entry in zip(images, manifest["images"]):
      assert entry["name"] == name
      png = np.asarray(Image.open(io.BytesIO((out / entry["png"]).read_bytes())))
      np.testing.assert_array_equal(png, image)  # lossless: the PNG is the image
      x = np.frombuffer(gzip.decompress((out / entry["input"]).read_bytes()), "<f4")
      expected = preprocess.preprocess(image, SIZE).numpy()
      np.testing.assert_array_equal(x.reshape(SIZE, SIZE, 3), expected)
      y = runtime.predict(interp, expected[None])[0]
      np.testing.assert_array_equal(np.float32(entry["output"]), y)
      top = [t["index"] for t in entry["top3"]]
      assert top == list(np.argsort(-y, kind="stable")[:3])
      assert [t["label"] for t in entry["top3"]] == [f"class{i}" for i in top]
      if precision == "int8":
        q = manifest["quantization"]["input"]
        raw = np.frombuffer(gzip.decompress((out / entry["input_int8"]).read_bytes()), np.int8)
        want = np.clip(np.round(expected / np.float32(q["scale"])) + q["zero_point"], -128, 127)
        np.testing.assert_array_equal(raw, want.astype(np.int8).ravel())
        o = manifest["quantization"]["output"]
        np.testing.assert_array_equal(
            (np.float32(entry["output_int8"]) - o["zero_point"]) * np.float32(o["scale"]),
            np.float32(entry["output"]))
      else:
        assert "quantization" not in manifest and "input_int8" not in entry


def test_rewrite_replaces_the_golden_directory_whole(tflite_dir, images, tmp_path):
  model_dir = str(tflite_dir / "squishednet-1")
  out = tmp_path / "golden"
  out.mkdir()
  (out / "old-model_float32").mkdir()  # a variant of an earlier release
  (out / "old-model_float32" / "golden.json").write_text("{}")
  golden.write_golden(model_dir, str(out), images[:1])
  assert sorted(os.listdir(out)) == ["squishednet-1_float32", "squishednet-1_int8"]
  assert sorted(os.listdir(out / "squishednet-1_float32")) == [
      "china.input.f32.gz", "china.png", "golden.json", "labels.txt", "preprocess.json"]


def test_mismatched_labels_and_missing_files_are_user_errors(tflite_dir, images, tmp_path):
  from squish_tf.errors import UserError
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
  (bad / "preprocess.json").write_bytes((src / "preprocess.json").read_bytes())
  (bad / "model.tflite").write_bytes((src / "model.tflite").read_bytes()[:4096])
  with pytest.raises(UserError, match=r"bad/model.tflite: not a valid .tflite model"):
    golden.write_golden(str(bad), str(tmp_path / "out"), images)
  assert not (tmp_path / "out").exists()
  mistaken = tmp_path / "notes"  # a folder of something else is refused, not replaced
  mistaken.mkdir()
  (mistaken / "todo.txt").write_text("keep me")
  with pytest.raises(UserError, match=r"--out_dir=.*notes holds other files \(no "
                                      r"\*/golden.json\)"):
    golden.write_golden(str(src), str(mistaken), images)
  assert os.listdir(mistaken) == ["todo.txt"]


def test_default_model_dir_reads_models_json(tflite_dir, tmp_path):
  from squish_tf.errors import UserError
  assert golden.default_model_dir(str(tflite_dir)) == str(tflite_dir / "squishednet-1")
  assert golden.default_model_dir(str(tflite_dir), "squishednet-1").endswith("squishednet-1")
  with pytest.raises(UserError, match="no model 'nope'"):
    golden.default_model_dir(str(tflite_dir), "nope")
  with pytest.raises(UserError, match="models.json not found"):
    golden.default_model_dir(str(tmp_path))
  (tmp_path / "release").mkdir()  # a run directory, given instead of its release
  (tmp_path / "release" / "models.json").write_text("{}")
  with pytest.raises(UserError, match=rf"{tmp_path} is a run directory, whose models "
                                      rf"squish-report released to {tmp_path}/release; pass "
                                      rf"--tflite_dir={tmp_path}/release$"):
    golden.default_model_dir(str(tmp_path))
  (tmp_path / "models.json").write_text('{"models": [{"na')
  with pytest.raises(UserError, match="models.json is damaged .*publish the models again"):
    golden.default_model_dir(str(tmp_path))
  (tmp_path / "models.json").write_text('{"models": [{"name": "squishednet-1"}]}')
  with pytest.raises(UserError, match=r"lists no models in the squish_tf.models/2 format \(each "
                                      r"with its dir\)"):
    golden.default_model_dir(str(tmp_path))
