"""Golden vectors for the Android demo's JVM core: real images, the input tensors
`squish_tf.data.preprocess` makes of them, and what the LiteRT interpreter outputs.

The Java tests (android_demo/core) load the PNGs, run their own preprocessing and
top-k, and must reproduce these numbers. Layout of the output directory:
  golden.json            manifest: model, tolerance, per image outputs and top-3
  preprocess.json, labels.txt   copied from the model directory
  <image>.png            the image exactly as preprocessed (RGB, lossless)
  <image>.input.f32.gz   expected input tensor, float32 little-endian NHWC, gzipped
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re

import numpy as np

from squish_tf import files
from squish_tf.errors import UserError

MANIFEST = "golden.json"
FORMAT = "squish_tf.golden/1"
# The Java core reimplements TensorFlow's float32 bilinear resize; only the rounding
# of a few float operations may differ.
INPUT_MAX_ABS_DIFF = 1e-4
TOP_K = 3
_NAME = re.compile(r"^[a-z0-9_]+$")


def sample_images(num_digits: int = 2) -> list[tuple[str, np.ndarray]]:
  """Real images that install offline: scikit-learn's two photos, downscaled (and one
  tall crop, so both crop axes are exercised), and digits from the test split."""
  from PIL import Image
  from sklearn.datasets import load_sample_images

  from squish_tf import data

  photos = dict(zip(("china", "flower"), load_sample_images().images))

  def shrink(array, width, height):
    return np.asarray(Image.fromarray(array).resize((width, height), Image.Resampling.LANCZOS))

  images = [("china", shrink(photos["china"], 120, 80)),  # wide, downscaled by resize
            ("flower", shrink(photos["flower"], 98, 65)),  # odd w - h: the crop offset is floored
            ("flower_tall", shrink(photos["flower"][40:400, 180:420], 51, 78))]
  raw = data.load_raw("digits", seed=0)
  for i, (image, label) in enumerate(raw.splits["test"].take(num_digits)):
    images.append((f"digit{i}_label{int(label)}", np.repeat(image.numpy(), 3, axis=-1)))
  return images


def _png(image: np.ndarray) -> bytes:
  from PIL import Image
  buf = io.BytesIO()
  Image.fromarray(image, "RGB").save(buf, format="PNG")
  return buf.getvalue()


def _read_model_dir(model_dir: str):
  paths = {k: os.path.join(model_dir, k) for k in ("model.tflite", "labels.txt", "preprocess.json")}
  missing = [k for k, p in paths.items() if not os.path.isfile(p)]
  if missing:
    raise UserError(f"{model_dir} lacks {', '.join(missing)}; point --model_dir at a model "
                    f"directory published by squish-report (tflite/<name>/)")
  contract = files.read_json(paths["preprocess.json"])
  with open(paths["labels.txt"], encoding="utf-8") as f:
    labels = [line.strip() for line in f.read().splitlines()]
  while labels and not labels[-1]:
    labels.pop()
  with open(paths["model.tflite"], "rb") as f:
    model_bytes = f.read()
  return contract, labels, model_bytes


def write_golden(model_dir: str, out_dir: str, images: list[tuple[str, np.ndarray]]) -> dict:
  """Writes golden vectors of `images` ((name, uint8 HxWx3) pairs) for the model in
  `model_dir` (tflite/<name>/ layout) into `out_dir`; returns the manifest."""
  import tensorflow as tf

  from squish_tf.data import preprocess
  from squish_tf.export import litert

  contract, labels, model_bytes = _read_model_dir(model_dir)
  if contract.get("format") != preprocess.CONTRACT_FORMAT:
    raise UserError(f"{model_dir}/preprocess.json has format {contract.get('format')!r}, "
                    f"expected {preprocess.CONTRACT_FORMAT!r}; re-publish with squish-report")
  size = int(contract["image_size"])
  interp = litert.interpreter(model_content=model_bytes)
  interp.allocate_tensors()
  in_shape = tuple(interp.get_input_details()[0]["shape"])
  out_shape = tuple(interp.get_output_details()[0]["shape"])
  if in_shape != (1, size, size, 3):
    raise UserError(f"{model_dir}: model input is {in_shape} but preprocess.json says "
                    f"image_size {size}; publish the model and its contract together")
  if out_shape[-1] != len(labels):
    raise UserError(f"{model_dir}: labels.txt has {len(labels)} labels but the model outputs "
                    f"{out_shape[-1]} scores; publish the model and its labels together")
  if not images:
    raise ValueError("no images given")

  entries = []
  for name, image in images:
    if not _NAME.match(name):
      raise ValueError(f"image name {name!r} must match {_NAME.pattern}")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise ValueError(f"image {name} must be uint8 HxWx3, got {image.dtype} {image.shape}")
    x = preprocess.preprocess(tf.constant(image), size).numpy().astype(np.float32)
    y = litert.predict(interp, x[None])[0]
    order = np.argsort(-y, kind="stable")[:TOP_K]
    files.write_bytes(os.path.join(out_dir, f"{name}.png"), _png(image))
    files.write_bytes(os.path.join(out_dir, f"{name}.input.f32.gz"),
                      gzip.compress(x.astype("<f4").tobytes(), mtime=0))
    entries.append({
        "name": name, "png": f"{name}.png", "input": f"{name}.input.f32.gz",
        "width": int(image.shape[1]), "height": int(image.shape[0]),
        "output": [float(v) for v in y],
        "top3": [{"index": int(i), "label": labels[i], "score": float(y[i])} for i in order]})

  manifest = {
      "format": FORMAT,
      "model": {"dir": os.path.basename(os.path.normpath(model_dir)),
                "sha256": hashlib.sha256(model_bytes).hexdigest(), "bytes": len(model_bytes),
                "input_dtype": np.dtype(interp.get_input_details()[0]["dtype"]).name},
      "image_size": size,
      "tolerance": {"input_max_abs_diff": INPUT_MAX_ABS_DIFF},
      "images": entries,
  }
  files.write_json(os.path.join(out_dir, "preprocess.json"), contract)
  files.write_text(os.path.join(out_dir, "labels.txt"), "\n".join(labels) + "\n")
  keep = {MANIFEST, "preprocess.json", "labels.txt"}
  keep |= {e["png"] for e in entries} | {e["input"] for e in entries}
  for stale in os.listdir(out_dir):  # images of an earlier run that are no longer listed
    if stale.endswith((".png", ".input.f32.gz")) and stale not in keep:
      os.remove(os.path.join(out_dir, stale))
  files.write_text(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=1) + "\n")
  return manifest


def default_model_dir(tflite_dir: str, name: str | None = None) -> str:
  """The named model of a published tflite/ directory, or its first one."""
  index_path = os.path.join(tflite_dir, "models.json")
  if not os.path.isfile(index_path):
    raise UserError(f"{index_path} not found; publish models with squish-report "
                    f"--publish_dir={tflite_dir}, or pass --model_dir")
  index = files.read_json(index_path)
  if not index:
    raise UserError(f"{index_path} lists no models; publish models with squish-report")
  if name is None:
    return os.path.join(tflite_dir, index[0]["dir"])
  for entry in index:
    if name in (entry.get("name"), entry.get("dir")):
      return os.path.join(tflite_dir, entry["dir"])
  raise UserError(f"no model {name!r} in {index_path}; choose one of "
                  f"{[e.get('name') for e in index]}")
