"""`folder:PATH`: one sub-folder of JPEG/PNG images per class (class names = sorted folder names).

The images are split 70/15/15 into train/validation/test by a seeded permutation of the whole
set (`base.split_indices`). Every image is decoded once when the folder is loaded, so a file
that cannot be read or decoded is named in a UserError up front rather than failing somewhere
inside a training epoch; that costs one decoding pass over the folder.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from squish_tf.data import base
from squish_tf.errors import UserError

EXTENSIONS = (".jpg", ".jpeg", ".png")
VALIDATION_FRACTION = 0.15
TEST_FRACTION = 0.15
_MAGIC = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n"}
_LAYOUT = "PATH/CLASS_NAME/*.jpg|*.png, one sub-folder per class"


def load(path: str, seed: int = 0) -> base.RawSplits:
  """The images under `path`, decoded to uint8 HxWx3, in seeded train/validation/test splits."""
  files, labels, class_names = list_images(path)
  _check_decodable(files)
  parts = dict(zip(base.SPLITS, base.split_indices(len(files), seed, VALIDATION_FRACTION,
                                                    TEST_FRACTION)))
  if not all(len(p) for p in parts.values()):
    raise UserError(f"folder {path} holds only {len(files)} images, too few for a "
                    f"train/validation/test split: add more images to each class folder")
  files, labels = np.array(files), np.array(labels, np.int32)
  return base.RawSplits(
      splits={k: _pipeline(files[v], labels[v]) for k, v in parts.items()},
      class_names=class_names,
      sizes={k: len(v) for k, v in parts.items()})


def list_images(path: str):
  """(files, labels, class_names) of a class-per-sub-folder tree; UserError for a bad layout."""
  if not path:
    raise UserError(f"--dataset=folder: names no folder: pass --dataset=folder:PATH with a "
                    f"folder laid out as {_LAYOUT}")
  if not os.path.exists(path):
    raise UserError(f"data folder {path} does not exist: pass --dataset=folder:PATH with an "
                    f"existing folder laid out as {_LAYOUT}")
  if not os.path.isdir(path):
    raise UserError(f"{path} is not a folder: pass --dataset=folder:PATH with a folder laid "
                    f"out as {_LAYOUT}")
  class_names = sorted(e.name for e in os.scandir(path)
                       if e.is_dir() and not e.name.startswith("."))
  if not class_names:
    raise UserError(f"no class sub-folders in {path}: put each class's images in its own "
                    f"sub-folder ({_LAYOUT})")
  if len(class_names) < 2:
    raise UserError(f"only one class sub-folder ({class_names[0]}) in {path}: a classifier "
                    f"needs at least 2 classes, add one sub-folder per class")
  files, labels = [], []
  for label, name in enumerate(class_names):
    folder = os.path.join(path, name)
    # Not `is_file()`: a broken link named like an image should be reported, not skipped.
    images = sorted(e.path for e in os.scandir(folder)
                    if not e.is_dir() and e.name.lower().endswith(EXTENSIONS))
    if not images:
      raise UserError(f"class folder {folder} has no JPEG/PNG images ({', '.join(EXTENSIONS)}):"
                      f" add images to it or remove it")
    files += images
    labels += [label] * len(images)
  return files, labels, class_names


def _decode(path):
  # channels=3: grey and RGBA files become RGB, as the preprocessing contract expects.
  return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)


def _pipeline(files: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
  ds = tf.data.Dataset.from_tensor_slices((files, labels))
  return ds.map(lambda f, y: (_decode(f), y),
                num_parallel_calls=base.AUTOTUNE).prefetch(base.AUTOTUNE)


def _check_decodable(files: list) -> None:
  """Decodes every file once (in parallel); UserError naming the first one that fails."""
  ds = tf.data.Dataset.from_tensor_slices((np.arange(len(files)), np.array(files)))
  ds = (ds.map(lambda i, f: (i, tf.shape(_decode(f))), num_parallel_calls=base.AUTOTUNE)
        .ignore_errors().batch(1024).prefetch(base.AUTOTUNE))
  ok = np.zeros(len(files), bool)
  for indices, _ in ds:
    ok[indices.numpy()] = True
  if not ok.all():
    bad = [files[i] for i in np.flatnonzero(~ok)]
    more = f" (and {len(bad) - 1} more bad files)" if len(bad) > 1 else ""
    problem, fix = _diagnose(bad[0])
    raise UserError(f"{problem}{more}: {fix}")


def _diagnose(path: str) -> tuple:
  """Why a file that TensorFlow could not decode is bad, and the fix, in words."""
  try:
    with open(path, "rb") as f:
      head = f.read(8)
  except OSError as e:
    return (f"cannot read image file {path} ({e.strerror or type(e).__name__})",
            "make it readable or remove it")
  if not head:
    problem = "is empty"
  elif not any(head.startswith(magic) for magic in _MAGIC.values()):
    problem = "is not a JPEG or PNG image (unrecognised header)"
  else:
    problem = f"is corrupt (its {_kind(head)} data cannot be decoded)"
  return f"image file {path} {problem}", "replace or remove it"


def _kind(head: bytes) -> str:
  return next(kind for kind, magic in _MAGIC.items() if head.startswith(magic))
