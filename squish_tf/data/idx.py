"""`fashion_mnist` and `mnist`: the four standard IDX files, read directly.

Names: `fashion_mnist` or `mnist`, optionally `:N` for N training images per class
(`fashion_mnist:1000`), drawn with the split seed. The files are looked for, in order:
1. in --data_dir (directly, or in its `fashion-mnist`/`fashion_mnist`/`mnist` sub-folder);
2. where Debian's `dataset-fashion-mnist` package puts them (/usr/share/datasets/fashion-mnist;
   `apt-get install dataset-fashion-mnist`) - Fashion-MNIST only;
3. else TensorFlow Datasets' own builder of that name, for machines that can download.
The Debian files are recompressed, so TFDS's checksums reject them as a manual download:
the IDX format (a big-endian header, then raw uint8) is simple enough to read here.

Splits: validation is a seeded, class-stratified tenth of the 60,000 training images (600 a
class), the same whatever N; train is the rest (or N a class of it); test is the 10,000
t10k images.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
from absl import logging

from squish_tf.data import base
from squish_tf.errors import UserError

NAMES = ("fashion_mnist", "mnist")
DEBIAN_DIRS = {"fashion_mnist": "/usr/share/datasets/fashion-mnist"}
SUBFOLDERS = {"fashion_mnist": ("fashion-mnist", "fashion_mnist"), "mnist": ("mnist",)}
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
CLASS_NAMES = {
    "fashion_mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "mnist": [str(d) for d in range(10)],
}
VALIDATION_FRACTION = 0.1
_IMAGES_MAGIC, _LABELS_MAGIC = 0x00000803, 0x00000801


def parse_name(name: str) -> tuple[str, int | None]:
  """("fashion_mnist", 1000) from "fashion_mnist:1000"; UserError for a bad count."""
  base_name, _, count = name.partition(":")
  if not count:
    return base_name, None
  if not count.isdigit() or int(count) < 1:
    raise UserError(f"--dataset={name}: after the colon comes a number of training images per "
                    f"class, e.g. {base_name}:1000")
  return base_name, int(count)


def read_idx(path: str, magic: int) -> np.ndarray:
  """The uint8 array of a gzipped IDX file; UserError naming the file when it is not one."""
  try:
    with gzip.open(path, "rb") as f:
      head = f.read(4)
      if len(head) < 4 or struct.unpack(">I", head)[0] != magic:
        raise ValueError(f"magic number {head.hex() or 'missing'}, expected {magic:08x}")
      ndim = magic & 0xFF
      shape = struct.unpack(f">{ndim}I", f.read(4 * ndim))
      data = f.read()
  except (OSError, EOFError, ValueError, struct.error) as e:
    raise UserError(f"{path} is not a readable IDX file ({e}); replace it with the original "
                    f"download") from None
  expected = int(np.prod(shape))
  if len(data) != expected:
    raise UserError(f"{path} holds {len(data)} bytes of data where its header promises "
                    f"{expected} ({'x'.join(map(str, shape))}); replace it with the original "
                    f"download")
  return np.frombuffer(data, np.uint8).reshape(shape)


def find_files(name: str, data_dir: str | None) -> str | None:
  """The directory holding the four files, or None."""
  candidates = []
  if data_dir:
    candidates += [data_dir] + [os.path.join(data_dir, sub) for sub in SUBFOLDERS[name]]
  if name in DEBIAN_DIRS:
    candidates.append(DEBIAN_DIRS[name])
  for directory in candidates:
    if all(os.path.isfile(os.path.join(directory, f)) for pair in FILES.values() for f in pair):
      return directory
  return None


def read_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  images_file, labels_file = FILES[split]
  images = read_idx(os.path.join(directory, images_file), _IMAGES_MAGIC)
  labels = read_idx(os.path.join(directory, labels_file), _LABELS_MAGIC)
  if len(images) != len(labels):
    raise UserError(f"{directory}: {images_file} has {len(images)} images but {labels_file} "
                    f"{len(labels)} labels; replace them with the original download")
  return images[..., None], labels.astype(np.int32)


def stratified_split(labels: np.ndarray, seed: int, validation_fraction: float,
                     per_class: int | None) -> tuple[np.ndarray, np.ndarray]:
  """(train, validation) indices: a seeded fraction of each class for validation, and at
  most `per_class` of each class's remaining images for training."""
  rng = np.random.default_rng(seed)
  train, validation = [], []
  for c in np.unique(labels):
    members = rng.permutation(np.flatnonzero(labels == c))
    n_val = int(round(len(members) * validation_fraction))
    validation.append(members[:n_val])
    rest = members[n_val:]
    if per_class is not None and per_class > len(rest):
      raise UserError(f"class {c} has only {len(rest)} training images, fewer than the "
                      f"{per_class} asked for; ask for at most {len(rest)} a class")
    train.append(rest if per_class is None else rest[:per_class])
  return np.sort(np.concatenate(train)), np.sort(np.concatenate(validation))


def load(name: str, data_dir: str | None = None, seed: int = 0) -> base.RawSplits:
  """The data set `name` (`fashion_mnist[:N]` or `mnist[:N]`) from IDX files, else TFDS."""
  base_name, per_class = parse_name(name)
  directory = find_files(base_name, data_dir)
  if directory is None:  # TFDS, which may download into a --data_dir that is not there yet
    return _from_tfds(base_name, data_dir, seed, per_class)
  if data_dir and directory == DEBIAN_DIRS.get(base_name):  # a typo must not pass unsaid
    what = "holds no" if os.path.isdir(data_dir) else "does not exist, so it holds no"
    logging.warning("--data_dir=%s %s %s IDX files; reading them from %s", data_dir, what,
                    base_name, directory)
  train_x, train_y = read_split(directory, "train")
  test_x, test_y = read_split(directory, "test")
  train, validation = stratified_split(train_y, seed, VALIDATION_FRACTION, per_class)
  images = np.concatenate([train_x, test_x])
  labels = np.concatenate([train_y, test_y])
  parts = {"train": train, "validation": validation,
           "test": np.arange(len(train_y), len(labels))}
  return base.in_memory(images, labels, parts, CLASS_NAMES[base_name])


def _from_tfds(name: str, data_dir: str | None, seed: int, per_class: int | None):
  """TFDS's builder, for users who can download; one line naming both ways otherwise."""
  from squish_tf.data import tfds_source
  places = " or ".join(p for p in ("--data_dir" if data_dir else "", DEBIAN_DIRS.get(name)) if p)
  ways = (["`apt-get install dataset-fashion-mnist`"] if name in DEBIAN_DIRS else []) + [
      f"put {', '.join(FILES['train'] + FILES['test'])} in a folder passed as --data_dir"]
  missing = f"{name}'s four IDX files are not in {places or '--data_dir'}"
  if per_class is not None:
    raise UserError(f"{missing} (a per-class subset needs them): {' or '.join(ways)}")
  try:
    return tfds_source.load(name, data_dir=data_dir, seed=seed)
  except UserError as e:
    raise UserError(f"{missing}, and TFDS could not provide them ({e}): "
                    f"{' or '.join(ways)}") from None
