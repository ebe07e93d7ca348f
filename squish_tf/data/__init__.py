"""Data: sources by name, the preprocessing contract, and splits ready for training.

`load(name, image_size, data_dir, seed)` is the entry point; `catalog` says which names
exist. `base` holds what every source returns (`RawSplits`) and the helpers that batch
splits (`batches`) or read them into arrays (`as_numpy`). One module per source (`digits`,
`folder`, `imagenet10`, `tfds_source`); `preprocess` is the contract every released model
ships with.
"""

from squish_tf.data.base import (
                                 SPLITS,
                                 DataSplits,
                                 RawSplits,
                                 as_numpy,
                                 batches,
                                 split_indices,
)
from squish_tf.data.catalog import load, load_raw

__all__ = ["SPLITS", "DataSplits", "RawSplits", "as_numpy", "batches", "load", "load_raw",
           "split_indices"]
