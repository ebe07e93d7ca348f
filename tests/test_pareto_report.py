"""benchmarks/pareto_report.py on hand-made points: the per-seed rows the README quotes."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import pareto_report  # noqa: E402


def point(method, seed, generation, params, top1, ms, index=None, size=None):
  return {"method": method, "seed": seed, "generation": generation,
          "index": generation if index is None else index, "params_total": params,
          "macs": params * 10, "size_bytes": size or 4 * params,
          "float_bytes": size or 4 * params, "top1_val": top1, "top1_test": top1 - 0.01,
          "latency_ms_p50_float_t1": ms, "latency_ms_p10_float_t1": ms / 2}


def test_per_seed_rows_put_each_seeds_own_matched_points_beside_its_ancestor():
  points = [point("evolution", 0, 0, 1000, 0.80, 0.10), point("evolution", 0, 1, 500, 0.80, 0.08),
            point("evolution", 0, 2, 250, 0.79, 0.05), point("width", 0, 2, 250, 0.75, 0.04, 1),
            point("mobilenet", 0, None, 900, 0.70, 0.2, "1.0"),
            point("evolution", 1, 0, 1000, 0.81, 0.125), point("evolution", 1, 1, 400, 0.81, 0.05),
            point("width", 1, 1, 400, 0.79, 0.04, 1),
            point("tfmot", 1, 1, 1000, 0.78, 0.1, 1, size=2000)]
  result = {"points": points, "squishednets": {
      "1": [{"name": "SquishedNet-1", "generation": 1}],
      "0": [{"name": "SquishedNet-2", "generation": 2}]}}
  rows = pareto_report.per_seed_rows(result)
  assert [r[:3] for r in rows] == [
      ["0", "ancestor", "gen 0"], ["0", "SquishedNet-2", "gen 2"],
      ["0", "SqueezeNet v1.1 x width", "matched to gen 2"], ["1", "ancestor", "gen 0"],
      ["1", "SquishedNet-1", "gen 1"], ["1", "SqueezeNet v1.1 x width", "matched to gen 1"],
      ["1", "tfmot magnitude pruning", "matched to gen 1"]]
  # seed 0's SquishedNet: 4x smaller, a point below the ancestor on test, 2x faster
  assert rows[1][3:] == ["250", "0.00", "1.0", "4.00x", "79.00", "78.00", "-1.00", "0.0250",
                         "0.0500", "2.00x", "2.00x"]
  assert rows[0][6] == "1.00x" and rows[0][9] == "+0.00"
  # ratios are to the seed's own ancestor (0.125 ms for seed 1), tfmot's size is its own
  assert rows[5][9:] == ["-2.00", "0.0200", "0.0400", "3.12x", "3.12x"]
  assert rows[6][6] == "2.00x"
  table = pareto_report.per_seed_table(result)
  # the ancestors and tfmot's dense file (0.10-0.125 ms), and seed 1's SquishedNet and width
  # network (same counts here: 0.05 and 0.04 ms) are the files of one architecture
  assert "timed apart by p10 up to 25%, p50 up to 25%" in table and table.count("\n| ") == 8


def test_per_seed_rows_skip_a_seed_without_an_ancestor_and_name_one_without_squishednets():
  points = [point("width", 0, 2, 250, 0.75, 0.04, 1), point("evolution", 1, 0, 1000, 0.8, 0.1)]
  result = {"points": points, "squishednets": {"0": [{"name": "SquishedNet-1", "generation": 2}],
                                                "1": []}}
  assert pareto_report.per_seed_rows(result) == []
  assert "Seeds without a SquishedNet: 1." in pareto_report.per_seed_table(result)
  assert "seed 0: gen 2; seed 1: none" in pareto_report.mixed_generations(result)


def test_twin_spread_compares_files_with_the_same_parameter_and_mac_counts():
  points = [point("evolution", 0, 0, 1000, 0.8, 0.10), point("evolution", 1, 0, 1000, 0.8, 0.11),
            point("evolution", 0, 3, 100, 0.8, 0.02), point("scratch", 0, 3, 100, 0.8, 0.03, 1),
            point("width", 0, 3, 110, 0.8, 0.09, 1),
            point("mobilenet", 0, None, 100, 0.7, 0.2, "1.0")]
  spread = pareto_report.twin_spread({"points": points})
  assert spread == {"p10": 1.5, "p50": 1.5}  # gen 3 against scratch; width has other counts
  points.append(point("l1_oneshot", 0, 3, 110, 0.8, 0.36, 1))  # width's twin, 4x slower
  assert pareto_report.twin_spread({"points": points}) == {"p10": 4.0, "p50": 4.0}


def test_a_summary_over_seeds_matched_to_different_generations_says_so():
  same = {"squishednets": {"0": [{"generation": 4}], "1": [{"generation": 4}]}}
  assert pareto_report.mixed_generations(same) == ""
  mixed = {"squishednets": {"0": [{"generation": 21}], "1": [{"generation": 17}]}}
  assert "(seed 0: gen 21; seed 1: gen 17)" in pareto_report.mixed_generations(mixed)


def test_generations_beaten_by_the_same_methods_read_as_one_range():
  def agg(method, index, size, top1, label=None):
    return {"method": method, "index": str(index), "label": label or f"gen {index}",
            "size_bytes": {"mean": size}, "top1_test": {"mean": top1}}
  aggregates = [agg("evolution", 0, 1000, 0.70), agg("evolution", 1, 800, 0.71),
                agg("evolution", 2, 600, 0.72, "gen 2 (SquishedNet-1)"),
                agg("evolution", 3, 400, 0.80), agg("evolution", 4, 200, 0.75),
                agg("l1_iterative", 1, 500, 0.78), agg("width", 1, 150, 0.76)]
  assert pareto_report.dominated_generations(aggregates, "size_bytes") == [
      "gens 0-2 (with gen 2 (SquishedNet-1)) by L1 filter pruning (iterative) / "
      "SqueezeNet v1.1 x width",
      "gen 4 by SqueezeNet v1.1 x width"]
