package org.squishtf.core;

import java.util.Locale;

/** One .tflite file of a model in models.json: its precision, checksum, scores and tensors. */
public final class ModelFile {
  /** The file name inside the model's directory, for example {@code model_int8.tflite}. */
  public final String file;
  /** "float32" or "int8" as the writer states it; the tensors' dtypes decide how it runs. */
  public final String precision;
  /** Lower-case hex SHA-256 of the file. */
  public final String sha256;
  public final long bytes;
  /** Test top-1 accuracy, or NaN when absent. */
  public final double top1;
  /** Median single-image latency measured by the report, or NaN when absent. */
  public final double latencyMsP50;
  /** Threads that latency was measured with, or -1 when absent. */
  public final int latencyThreads;
  public final TensorSpec input;
  public final TensorSpec output;

  ModelFile(String file, String precision, String sha256, long bytes, double top1,
            double latencyMsP50, int latencyThreads, TensorSpec input, TensorSpec output) {
    this.file = file;
    this.precision = precision;
    this.sha256 = sha256;
    this.bytes = bytes;
    this.top1 = top1;
    this.latencyMsP50 = latencyMsP50;
    this.latencyThreads = latencyThreads;
    this.input = input;
    this.output = output;
  }

  static ModelFile parse(Object json, String where) {
    JsonFields f = new JsonFields(json, where);
    String sha = f.string("sha256").toLowerCase(Locale.ROOT);
    if (!sha.matches("[0-9a-f]{64}")) {
      throw JsonFields.fail(where + ".sha256 must be 64 hex digits, got \"" + sha + "\"");
    }
    return new ModelFile(f.fileName("file"), f.string("precision"), sha,
        f.integer("bytes", 1, Long.MAX_VALUE / 2), f.optionalNumber("top1"),
        f.optionalNumber("latency_ms_p50_b1"),
        f.has("latency_threads") ? (int) f.integer("latency_threads", 1, 1024) : -1,
        TensorSpec.parse(f.raw("input"), where + ".input"),
        TensorSpec.parse(f.raw("output"), where + ".output"));
  }
}
