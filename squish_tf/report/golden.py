"""Golden vectors for the Android demo's JVM core: real images, the input tensors
`squish_tf.data.preprocess` makes of them, and what the LiteRT interpreter outputs, for every
file (float32 and int8) of a released model.

The Java tests (android_demo/core) load the PNGs, run their own preprocessing, quantization
and top-k, and must reproduce these numbers exactly. One directory per released file,
`<model dir>_<precision>/` (format squish_tf.golden/2):
  golden.json            manifest: the file and its sha256, int8 quantization, per image the
                         output (dequantized for int8), the raw int8 output and the top-3
  preprocess.json, labels.txt   copied from the model directory
  <image>.png            the image exactly as preprocessed (RGB, lossless)
  <image>.input.f32.gz   the float32 input tensor, little-endian NHWC, gzipped
  <image>.input.i8.gz    int8 files: the quantized input tensor (float32 x / scale, rounded
                         half to even, plus zero point, clamped), gzipped
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

REPUBLISH = "publish the models again with squish-report --publish_dir=DIR"

MANIFEST = "golden.json"
OUT_ROOT_HOLDS = "*/" + MANIFEST  # what earlier golden vectors leave in --out_dir
FORMAT = "squish_tf.golden/2"
TOP_K = 3
MODEL_FILES = (("model.tflite", "float32"), ("model_int8.tflite", "int8"))
_NAME = re.compile(r"^[a-z0-9_]+$")


def sample_images(release_dir: str | None = None,
                  num_test: int = 2) -> list[tuple[str, np.ndarray]]:
  """Real images that install offline: scikit-learn's two photos, downscaled (and one tall
  crop, so both crop axes are exercised), and test images: the release's check images when
  `release_dir` has them, else digits from the bundled data set."""
  from PIL import Image
  from sklearn.datasets import load_sample_images

  photos = dict(zip(("china", "flower"), load_sample_images().images))

  def shrink(array, width, height):
    return np.asarray(Image.fromarray(array).resize((width, height), Image.Resampling.LANCZOS))

  images = [("china", shrink(photos["china"], 120, 80)),  # wide, downscaled by resize
            ("flower", shrink(photos["flower"], 98, 65)),  # odd w - h: the crop offset is floored
            ("flower_tall", shrink(photos["flower"][40:400, 180:420], 51, 78))]
  check = os.path.join(release_dir or "", "check_images.npz")
  if release_dir and os.path.isfile(check):
    with np.load(check) as saved:
      tests = list(zip(saved["images"][:num_test], saved["labels"][:num_test]))
    prefix = "test"
  else:
    from squish_tf import data
    raw = data.load_raw("digits", seed=0)
    tests = [(x.numpy(), y) for x, y in raw.splits["test"].take(num_test)]
    prefix = "digit"
  for i, (image, label) in enumerate(tests):
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    images.append((f"{prefix}{i}_label{int(label)}", np.asarray(rgb, np.uint8)))
  return images


def _png(image: np.ndarray) -> bytes:
  from PIL import Image
  buf = io.BytesIO()
  Image.fromarray(image, "RGB").save(buf, format="PNG")
  return buf.getvalue()


def _read_model_dir(model_dir: str, model_file: str):
  paths = {k: os.path.join(model_dir, k) for k in (model_file, "labels.txt", "preprocess.json")}
  missing = [k for k, p in paths.items() if not os.path.isfile(p)]
  if missing:
    raise UserError(f"{model_dir} lacks {', '.join(missing)}; point --model_dir at a model "
                    f"directory published by squish-report (tflite/<name>/)")
  contract = files.read_json_or_say(paths["preprocess.json"], REPUBLISH)
  with open(paths["labels.txt"], encoding="utf-8") as f:
    labels = [line.strip() for line in f.read().splitlines()]
  while labels and not labels[-1]:
    labels.pop()
  with open(paths[model_file], "rb") as f:
    model_bytes = f.read()
  return contract, labels, model_bytes


def write_variant(model_dir: str, model_file: str, precision: str, out_dir: str,
                  images: list[tuple[str, np.ndarray]]) -> dict:
  """Writes the golden vectors of `images` ((name, uint8 HxWx3) pairs) for one model file of
  `model_dir` (tflite/<name>/ layout) into `out_dir`; returns the manifest."""
  import tensorflow as tf

  from squish_tf.data import preprocess
  from squish_tf.export import runtime

  contract, labels, model_bytes = _read_model_dir(model_dir, model_file)
  if contract.get("format") != preprocess.CONTRACT_FORMAT:
    raise UserError(f"{model_dir}/preprocess.json has format {contract.get('format')!r}, "
                    f"expected {preprocess.CONTRACT_FORMAT!r}; re-publish with squish-report")
  size = int(contract["image_size"])
  interp = runtime.interpreter(model_content=model_bytes,
                               name=os.path.join(model_dir, model_file))
  interp.allocate_tensors()
  inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
  if tuple(inp["shape"]) != (1, size, size, 3):
    raise UserError(f"{model_dir}: model input is {tuple(inp['shape'])} but preprocess.json "
                    f"says image_size {size}; publish the model and its contract together")
  if out["shape"][-1] != len(labels):
    raise UserError(f"{model_dir}: labels.txt has {len(labels)} labels but the model outputs "
                    f"{out['shape'][-1]} scores; publish the model and its labels together")
  if not images:
    raise ValueError("no images given")
  quantized = np.dtype(inp["dtype"]) != np.float32
  os.makedirs(out_dir, exist_ok=True)
  entries = []
  for name, image in images:
    if not _NAME.match(name):
      raise ValueError(f"image name {name!r} must match {_NAME.pattern}")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
      raise ValueError(f"image {name} must be uint8 HxWx3, got {image.dtype} {image.shape}")
    x = preprocess.preprocess(tf.constant(image), size).numpy().astype(np.float32)
    entry = {"name": name, "png": f"{name}.png", "input": f"{name}.input.f32.gz",
             "width": int(image.shape[1]), "height": int(image.shape[0])}
    files.write_bytes(os.path.join(out_dir, entry["png"]), _png(image))
    files.write_bytes(os.path.join(out_dir, entry["input"]),
                      gzip.compress(x.astype("<f4").tobytes(), mtime=0))
    q = runtime.quantize_input(x[None], inp)
    interp.set_tensor(inp["index"], q)
    interp.invoke()
    raw = interp.get_tensor(out["index"])[0].copy()
    y = runtime.dequantize_output(raw, out)
    if quantized:
      entry["input_int8"] = f"{name}.input.i8.gz"
      files.write_bytes(os.path.join(out_dir, entry["input_int8"]),
                        gzip.compress(q.astype(np.int8).tobytes(), mtime=0))
      entry["output_int8"] = [int(v) for v in raw]
    order = np.argsort(-y, kind="stable")[:TOP_K]  # ties: the lower index first, as in Java
    entry["output"] = [float(v) for v in y]
    entry["top3"] = [{"index": int(i), "label": labels[i], "score": float(y[i])} for i in order]
    entries.append(entry)
  manifest = {
      "format": FORMAT,
      "model": {"dir": os.path.basename(os.path.normpath(model_dir)), "file": model_file,
                "sha256": hashlib.sha256(model_bytes).hexdigest(), "bytes": len(model_bytes),
                "precision": precision},
      "image_size": size,
      "images": entries,
  }
  if quantized:
    manifest["quantization"] = {
        side: {"scale": float(np.float32(d["quantization"][0])),
               "zero_point": int(d["quantization"][1])}
        for side, d in (("input", inp), ("output", out))}
  files.write_json(os.path.join(out_dir, "preprocess.json"), contract)
  files.write_text(os.path.join(out_dir, "labels.txt"), "\n".join(labels) + "\n")
  keep = {MANIFEST, "preprocess.json", "labels.txt"}
  for e in entries:
    keep |= {e["png"], e["input"], e.get("input_int8")}
  for stale in os.listdir(out_dir):  # images of an earlier run that are no longer listed
    if stale.endswith((".png", ".gz")) and stale not in keep:
      os.remove(os.path.join(out_dir, stale))
  files.write_text(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=1) + "\n")
  return manifest


def released_files(model_dir: str) -> list[tuple[str, str]]:
  """(file, precision) of each model file `model_dir` holds; none is a UserError (squish-golden
  asks before TensorFlow starts)."""
  present = [(f, p) for f, p in MODEL_FILES if os.path.isfile(os.path.join(model_dir, f))]
  if not present:
    raise UserError(f"{model_dir} lacks model.tflite, labels.txt, preprocess.json; point "
                    f"--model_dir at a model directory published by squish-report "
                    f"(tflite/<name>/)")
  return present


def check_out_dir(out_root: str) -> None:
  """`out_root` is replaced whole: it must be new, empty or earlier golden vectors."""
  files.check_replaceable(out_root, OUT_ROOT_HOLDS, "--out_dir")


def write_golden(model_dir: str, out_root: str, images: list[tuple[str, np.ndarray]]) -> list:
  """One variant directory per file of `model_dir` (float32 and, if released, int8), under
  `out_root`, which is replaced whole; returns the manifests."""
  present = released_files(model_dir)
  name = os.path.basename(os.path.normpath(model_dir))
  manifests = []
  with files.atomic_dir(out_root, OUT_ROOT_HOLDS, "--out_dir") as staging:
    for model_file, precision in present:
      manifests.append(write_variant(model_dir, model_file, precision,
                                     os.path.join(staging, f"{name}_{precision}"), images))
  return manifests


def default_model_dir(tflite_dir: str, name: str | None = None) -> str:
  """The named model of a published tflite/ directory, or its first one."""
  index_path = os.path.join(tflite_dir, "models.json")
  if not os.path.isfile(index_path):
    release = os.path.join(tflite_dir, "release")
    if os.path.isfile(os.path.join(release, "models.json")):
      raise UserError(f"{index_path} not found: {tflite_dir} is a run directory, whose models "
                      f"squish-report released to {release}; pass --tflite_dir={release}")
    raise UserError(f"{index_path} not found; publish models with squish-report "
                    f"--publish_dir={tflite_dir}, or pass --model_dir")
  index = files.read_json_or_say(index_path, REPUBLISH)
  models = index.get("models") if isinstance(index, dict) else None
  if not models or not all(isinstance(m, dict) and isinstance(m.get("dir"), str)
                           for m in models):
    raise UserError(f"{index_path} lists no models in the squish_tf.models/2 format (each "
                    f"with its dir); publish models with squish-report")
  if name is None:
    return os.path.join(tflite_dir, models[0]["dir"])
  for entry in models:
    if name in (entry.get("name"), entry.get("dir"), entry.get("title")):
      return os.path.join(tflite_dir, entry["dir"])
  raise UserError(f"no model {name!r} in {index_path}; choose one of "
                  f"{[e.get('name') for e in models]}")
