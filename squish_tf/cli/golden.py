"""squish-golden: golden vectors for the Android demo's JVM tests, from a released model."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  flags.DEFINE_string("tflite_dir", "tflite", "Published models (squish-report --publish_dir).")
  flags.DEFINE_string("model", None, "Model name in models.json; the first one when unset.")
  flags.DEFINE_string("model_dir", None, "A model directory; overrides --tflite_dir/--model.")
  flags.DEFINE_string("out_dir", "android_demo/core/src/test/resources/golden",
                      "Where to write the golden vectors (replaced whole: one directory per "
                      "released file of the model). It must be new, empty, or earlier golden "
                      "vectors; anything else is refused, not deleted.")


def main(argv):
  del argv
  import os

  from squish_tf.report import golden  # imports TensorFlow only when it computes
  model_dir = FLAGS.model_dir or golden.default_model_dir(FLAGS.tflite_dir, FLAGS.model)
  golden.released_files(model_dir)
  golden.check_out_dir(FLAGS.out_dir)
  common.start_tensorflow()
  images = golden.sample_images(release_dir=os.path.dirname(os.path.normpath(model_dir)))
  for manifest in golden.write_golden(model_dir, FLAGS.out_dir, images):
    print(f"{manifest['model']['file']} ({manifest['model']['precision']}):")
    for entry in manifest["images"]:
      top = ", ".join(f"{t['label']} {t['score']:.3f}" for t in entry["top3"])
      print(f"  {entry['name']:<20} {entry['width']}x{entry['height']}  top-3: {top}")
  print(f"wrote golden vectors for {model_dir} to {FLAGS.out_dir}")


def run_main():
  define_flags()
  common.run(main)


if __name__ == "__main__":
  run_main()
