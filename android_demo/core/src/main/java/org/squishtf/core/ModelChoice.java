package org.squishtf.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** One line of the app's model picker: a model and one of its files (one precision). */
public final class ModelChoice {
  public final ModelEntry model;
  public final ModelFile file;

  public ModelChoice(ModelEntry model, ModelFile file) {
    this.model = model;
    this.file = file;
  }

  /** The file's path under the assets root, for example {@code models/squishednet-1/model.tflite}. */
  public String assetPath(String root) {
    return root + "/" + model.dir + "/" + file.file;
  }

  /** Another path in the model's directory (labels, preprocess.json). */
  public String siblingPath(String root, String name) {
    return root + "/" + model.dir + "/" + name;
  }

  /** Identifies the choice across reloads, for example "squishednet-1/model_int8.tflite". */
  public String key() {
    return model.dir + "/" + file.file;
  }

  /** For example "SquishedNet-1 · int8 · 45.0 KB · top-1 90.0% · 0.6 ms". */
  public String label() {
    List<String> parts = new ArrayList<>();
    parts.add(model.title);
    parts.add(file.precision);
    parts.add(file.bytes >= 1_000_000 ? String.format(Locale.US, "%.2f MB", file.bytes / 1e6)
        : String.format(Locale.US, "%.1f KB", file.bytes / 1e3));
    if (!Double.isNaN(file.top1)) {
      parts.add(String.format(Locale.US, "top-1 %.1f%%", 100 * file.top1));
    }
    if (!Double.isNaN(file.latencyMsP50)) {
      parts.add(String.format(Locale.US, "%.1f ms", file.latencyMsP50));
    }
    return String.join(" \u00b7 ", parts);
  }

  @Override
  public String toString() {
    return label();
  }
}
