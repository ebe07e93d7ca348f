"""Data sets as tf.data pipelines of (preprocessed image, label), split train/validation/test.

Sources, chosen by name:
- `digits`: scikit-learn's bundled 8x8 handwritten digits (offline; the default).
- `imagenet10`: the paper's ImageNet-10, built by TFDS from ILSVRC2012 archives on disk.
- `folder:PATH`: one sub-folder of JPEG/PNG files per class.
- any other name: a TensorFlow Datasets image-classification builder (`imagenette/160px-v2`).
Every source yields uint8 images of its own size; `preprocess.preprocess` makes them inputs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from squish_tf import preprocess

AUTOTUNE = tf.data.AUTOTUNE
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class RawSplits:
  """What a source provides: uint8 image datasets per split, and the class names."""
  splits: dict  # split name -> tf.data.Dataset of (uint8 HxWxC image, int label)
  class_names: list
  sizes: dict  # split name -> number of examples


@dataclasses.dataclass(frozen=True)
class DataSplits:
  """Preprocessed, unbatched (image, label) datasets; see `batches` for training input."""
  train: tf.data.Dataset
  validation: tf.data.Dataset
  test: tf.data.Dataset
  class_names: list
  sizes: dict
  image_size: int

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  def split(self, name: str) -> tf.data.Dataset:
    return getattr(self, name)


def split_indices(n: int, seed: int, validation_fraction: float, test_fraction: float):
  """A fixed seeded permutation of range(n) cut into train/validation/test index arrays."""
  order = np.random.default_rng(seed).permutation(n)
  n_test = int(round(n * test_fraction))
  n_val = int(round(n * validation_fraction))
  return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def _digits(seed: int) -> RawSplits:
  from sklearn.datasets import load_digits  # bundled with scikit-learn: no download
  bunch = load_digits()
  images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  labels = bunch.target.astype(np.int32)
  parts = dict(zip(SPLITS, split_indices(len(labels), seed, 0.15, 0.15)))
  return RawSplits(
      splits={k: tf.data.Dataset.from_tensor_slices((images[v], labels[v]))
              for k, v in parts.items()},
      class_names=[str(d) for d in range(10)],
      sizes={k: len(v) for k, v in parts.items()})


def load_raw(name: str, data_dir: str | None = None, seed: int = 0) -> RawSplits:
  """Dispatches a data-set name to its source; raises UserError for unknown names."""
  if name == "digits":
    return _digits(seed)
  if name.startswith("folder:"):
    from squish_tf.sources import folder
    return folder.load(name[len("folder:"):], seed=seed)
  if name == "imagenet10":
    from squish_tf.sources import imagenet10
    return imagenet10.load(data_dir=data_dir, seed=seed)
  from squish_tf.sources import tfds_source
  return tfds_source.load(name, data_dir=data_dir, seed=seed)


def load(name: str, image_size: int = 64, data_dir: str | None = None, seed: int = 0) -> DataSplits:
  """The named data set, preprocessed to `image_size` per the preprocessing contract."""
  raw = load_raw(name, data_dir=data_dir, seed=seed)

  def prep(image, label):
    return preprocess.preprocess(image, image_size), tf.cast(label, tf.int32)

  ready = {k: ds.map(prep, num_parallel_calls=AUTOTUNE) for k, ds in raw.splits.items()}
  return DataSplits(**ready, class_names=list(raw.class_names), sizes=dict(raw.sizes),
                    image_size=image_size)


def batches(ds: tf.data.Dataset, batch_size: int, shuffle_seed: int | None = None,
            cache: bool = True) -> tf.data.Dataset:
  """Cached, optionally shuffled (seeded, reshuffled each epoch), batched and prefetched."""
  if cache:
    ds = ds.cache()
  if shuffle_seed is not None:
    ds = ds.shuffle(4096, seed=shuffle_seed, reshuffle_each_iteration=True)
  return ds.batch(batch_size).prefetch(AUTOTUNE)


def as_numpy(ds: tf.data.Dataset, limit: int | None = None):
  """(images, labels) arrays of an unbatched split, up to `limit` examples."""
  if limit is not None:
    ds = ds.take(limit)
  images, labels = [], []
  for x, y in ds.batch(256):
    images.append(x.numpy())
    labels.append(y.numpy())
  if not images:
    raise ValueError("the data split is empty")
  return np.concatenate(images), np.concatenate(labels)
