"""The `squish-train` job: train the ancestor, export a verified .tflite, evaluate both."""

from __future__ import annotations

import os
import shutil
import time

import keras
import tensorflow as tf
from absl import logging

from squish_tf import config as config_lib
from squish_tf import data, files, rundir
from squish_tf.export import litert, runtime
from squish_tf.net import model as model_lib
from squish_tf.train import provenance
from squish_tf.train.trainer import JsonlMetrics, fit, top1

# Images used to verify a .tflite against Keras before it is kept.
VERIFY_IMAGES = 64


def train_and_evaluate(cfg: config_lib.TrainConfig, workdir: str, overwrite: bool = False,
                       resume: bool = False) -> dict:
  """Trains the ancestor on `cfg.dataset`, exports a verified .tflite, evaluates both.

  Writes workdir/{config.json, metrics.jsonl, model.keras(.json), model.tflite(.json),
  summary.json, labels.txt, tensorboard/}, and checkpoints/ until the run finishes. A
  directory holding a run is refused unless `overwrite` (start again) or, for an unfinished
  one, `resume` (go on from its newest epoch checkpoint). The seed fixes splits,
  initialization and shuffling, and TensorFlow's ops are made deterministic, so a resumed run
  ends with the weights an uninterrupted one ends with.
  """
  config = config_lib.to_dict(cfg)
  try:
    rundir.claim_training_dir(workdir, overwrite, resume, config,  # locked until we return
                              config_lib.to_dict(config_lib.TrainConfig()))
    return _train(cfg, workdir, config)
  finally:
    files.release(workdir)


def _train(cfg: config_lib.TrainConfig, workdir: str, config: dict) -> dict:
  """`train_and_evaluate`'s work, in a claimed directory."""
  keras.utils.set_random_seed(cfg.seed)
  tf.config.experimental.enable_op_determinism()  # as squish-evolve: repeatable, resumable
  files.write_json(os.path.join(workdir, rundir.CONFIG), config)
  checkpoint_dir = os.path.join(workdir, rundir.CHECKPOINTS)
  metrics = os.path.join(workdir, "metrics.jsonl")
  done = rundir.epochs_done(workdir)  # epochs logged after the newest checkpoint run again
  files.write_jsonl(metrics, [r for r in files.read_jsonl(metrics) if r["epoch"] <= done])
  splits = data.load(cfg.dataset, cfg.image_size, cfg.data_dir, cfg.seed)
  net = model_lib.squeezenet(num_classes=splits.num_classes, image_size=cfg.image_size,
                             seed=cfg.seed)
  start = time.perf_counter()
  fit(net, splits, cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.seed,
      callbacks=[JsonlMetrics(metrics),
                 keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard"))],
      checkpoint_dir=checkpoint_dir)
  train_seconds = time.perf_counter() - start
  model_path = os.path.join(workdir, "model.keras")
  with files.atomic_path(model_path) as tmp:
    net.save(tmp)
  provenance.write(model_path, provenance.record(cfg.dataset, cfg.seed, cfg.image_size,
                                                 splits.class_names, cfg.data_dir))
  val_x = data.as_numpy(splits.validation, limit=VERIFY_IMAGES)[0]
  test_x, test_y = data.as_numpy(splits.test)
  tflite_path = os.path.join(workdir, "model.tflite")
  parity = litert.export_verified(net, val_x, tflite_path)
  summary = {
      "top1_val": top1(net, splits.validation),
      "top1_keras": top1(net, splits.test),
      "top1_tflite": runtime.top1(tflite_path, test_x, test_y),
      "tflite_bytes": parity["bytes"],
      "tflite_max_abs_diff": parity["max_abs_diff"],
      "train_seconds": round(train_seconds, 2),  # this process's; see resumed_from_epoch
      "resumed_from_epoch": done,
      "params": net.count_params(),
  }
  files.write_text(os.path.join(workdir, "labels.txt"), "\n".join(splits.class_names) + "\n")
  files.write_json(os.path.join(workdir, rundir.SUMMARY), summary)  # marks it finished
  if os.path.isdir(checkpoint_dir):
    shutil.rmtree(checkpoint_dir)  # a finished run has nothing to resume
  logging.info("summary: %s", summary)
  return summary
