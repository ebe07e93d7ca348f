"""squish-report: Table 2, plots and a release of the named SquishedNets, from a run directory
alone. The release goes to WORKDIR/release/ unless --publish_dir names another place (the
repository's tflite/, when releasing)."""

from absl import flags

from squish_tf.cli import common

FLAGS = flags.FLAGS


def define_flags() -> None:
  from squish_tf.config import RELEASE_LATENCY_SECONDS
  flags.DEFINE_string("workdir", None, "Run directory written by squish-evolve.", required=True)
  flags.DEFINE_string("publish_dir", None, "Publish the named SquishedNets here in the tflite/ "
                      "layout (replaced whole), e.g. tflite. Default: OUT/release. It must be "
                      "new, empty, or an earlier release (models.json); anything else is "
                      "refused, not deleted. With nothing named it is left as it was.")
  flags.DEFINE_string("out", None, "Where report.md, the plots, squishednets.json and release/ "
                      "go. Default: --workdir.")
  flags.DEFINE_float("max_drop", 0.02, "SquishedNets may lose at most this much validation "
                     "top-1 (fraction) against the ancestor.", lower_bound=0.0, upper_bound=1.0)
  flags.DEFINE_integer("max_models", 4, "Name at most this many SquishedNets.", lower_bound=1)
  flags.DEFINE_float("latency_seconds", RELEASE_LATENCY_SECONDS, "How long each released file "
                     "is timed at batch 1, per thread count (1 and all cores).",
                     lower_bound=0.01)


def main(argv):
  del argv
  from squish_tf.report.release_dir import release_dir
  from squish_tf.rundir import RunDir
  run = RunDir(FLAGS.workdir)
  run.require_run()
  run.records_to_report()  # a run with nothing to report, told at once
  release_dir(FLAGS.workdir, FLAGS.out, FLAGS.publish_dir)  # and a release that may not go there
  common.start_tensorflow()
  from squish_tf.report import run_report
  out = run_report.write_report(FLAGS.workdir, FLAGS.publish_dir, FLAGS.max_drop,
                                FLAGS.max_models, FLAGS.out, FLAGS.latency_seconds)
  print(out["table"])
  print(f"\nreport: {out['report']}\nplots: {', '.join(out['plots'])}")
  if out["named"]:
    n = len(out["named"])
    print(f"released {n} model{'s' if n > 1 else ''} to {out['release']}/ (see MODELS.md there)")
  else:
    print(f"released nothing ({out['release']}/ left as it was): no generation after the "
          f"ancestor has finished within --max_drop={FLAGS.max_drop} of its validation top-1")


def run_main():
  define_flags()
  common.run(main)


if __name__ == "__main__":
  run_main()
