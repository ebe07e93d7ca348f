"""Reports and releases, made from a run directory alone.

  table2       the paper's Table 2 for our generations; Pareto naming of SquishedNets
  plots        per-generation figures, top-1 against size
  run_report   report.md with the tables, the time split and the plots
  publish      the named SquishedNets in the tflite/ layout a phone app ships
  release_dir  where a release goes, and whether it may replace what is there
  golden       golden vectors for the Android demo's JVM tests, from a released model
"""
