"""Data sets by name, preprocessed per the contract.

Names:
- `digits`: scikit-learn's bundled 8x8 handwritten digits (offline; the default).
- `fashion_mnist`, `mnist` (`:N` for N training images a class): the IDX files from
  --data_dir or Debian's dataset-fashion-mnist package, else TFDS.
- `imagenet10`: the paper's ImageNet-10, built by TFDS from ILSVRC2012 archives on disk.
- `folder:PATH`: one sub-folder of JPEG/PNG files per class.
- any other name: a TensorFlow Datasets image-classification builder (`imagenette/160px-v2`).
Every source yields uint8 images of its own size; `preprocess.preprocess` makes them inputs.
Sources are imported when named, so loading `digits` never imports TensorFlow Datasets.
"""

from __future__ import annotations

import tensorflow as tf

from squish_tf.data import base, preprocess
from squish_tf.errors import UserError


def load_raw(name: str, data_dir: str | None = None, seed: int = 0) -> base.RawSplits:
  """The named source's uint8 splits; unknown names are a UserError from the TFDS source."""
  if name.split(":")[0] in ("digits", "imagenet10") and ":" in name:
    raise UserError(f"--dataset={name}: only fashion_mnist and mnist take :N (training images "
                    f"per class); pass --dataset={name.split(':')[0]}")
  if name == "digits":
    from squish_tf.data import digits
    return digits.load(seed)
  if name.split(":")[0] in ("fashion_mnist", "mnist"):
    from squish_tf.data import idx
    return idx.load(name, data_dir=data_dir, seed=seed)
  if name.startswith("folder:"):
    from squish_tf.data import folder
    return folder.load(name[len("folder:"):], seed=seed)
  if name == "imagenet10":
    from squish_tf.data import imagenet10
    return imagenet10.load(data_dir=data_dir, seed=seed)
  from squish_tf.data import tfds_source
  return tfds_source.load(name, data_dir=data_dir, seed=seed)


def load(name: str, image_size: int = 64, data_dir: str | None = None,
         seed: int = 0) -> base.DataSplits:
  """The named data set, preprocessed to `image_size` per the preprocessing contract.

  Each split is cached in memory once it has been read whole, so every network trained or
  evaluated on it in this process reuses the preprocessed images.
  """
  raw = load_raw(name, data_dir=data_dir, seed=seed)

  def prep(image, label):
    return preprocess.preprocess(image, image_size), tf.cast(label, tf.int32)

  ready = {k: ds.map(prep, num_parallel_calls=base.AUTOTUNE).cache()
           for k, ds in raw.splits.items()}
  return base.DataSplits(**ready, class_names=list(raw.class_names), sizes=dict(raw.sizes),
                         image_size=image_size)
