"""Data sources behind `squish_tf.data`: each module's `load(...)` returns a `data.RawSplits`."""
