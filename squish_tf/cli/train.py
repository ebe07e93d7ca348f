"""squish-train: train the SqueezeNet v1.1 ancestor and export a verified .tflite."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  common.define_data_flags()
  common.define_train_flags()
  flags.DEFINE_string("workdir", None, "Run directory to write.", required=True)
  flags.DEFINE_bool("overwrite", False, "Replace the training run in --workdir, finished or not.")
  flags.DEFINE_bool("resume", False, "Continue the unfinished training run in --workdir from "
                    "its last finished epoch, as if it had never stopped.")


def main(argv):
  del argv
  from squish_tf import config, rundir  # after flags parse: --help stays fast
  if FLAGS.resume:
    common.take_saved_flags(FLAGS.workdir)
  cfg = config.TrainConfig(dataset=FLAGS.dataset, data_dir=FLAGS.data_dir,
                           image_size=FLAGS.image_size, epochs=FLAGS.epochs,
                           batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
                           seed=FLAGS.seed)
  rundir.check_training_dir(FLAGS.workdir, FLAGS.overwrite, FLAGS.resume, config.to_dict(cfg),
                            config.to_dict(config.TrainConfig()))  # before TensorFlow starts
  common.start_tensorflow()
  from squish_tf.train import job
  summary = job.train_and_evaluate(cfg, FLAGS.workdir, FLAGS.overwrite, FLAGS.resume)
  print(f"validation top-1 {summary['top1_val']:.4f} | test top-1 Keras "
        f"{summary['top1_keras']:.4f}, LiteRT {summary['top1_tflite']:.4f} | "
        f"{FLAGS.workdir}/model.tflite {summary['tflite_bytes'] / 1e6:.2f} MB")


def run_main():
  define_flags()
  common.run(main, resume="; the same command with --resume goes on from the last finished "
             "epoch")


if __name__ == "__main__":
  run_main()
