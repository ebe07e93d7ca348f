"""Training: one network fitted and evaluated (`trainer`), the `squish-train` job (`job`), and
the tf.distribute strategy a network trains under (`distribute`).

The names most callers need are re-exported here: `fit`, `top1`, `compile_model`.
"""

from squish_tf.train.trainer import compile_model, fit, top1

__all__ = ["compile_model", "fit", "top1"]
