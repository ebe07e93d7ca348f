package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** One published model in models.json: its directory, class count, contract files and files. */
public final class ModelEntry {
  public final String name;
  /** For the picker; the name when models.json has no title. */
  public final String title;
  /** Directory under tflite/ (and assets/models/) holding the files. */
  public final String dir;
  /** The dataset it was trained on, or null when absent. */
  public final String dataset;
  public final int numClasses;
  public final int imageSize;
  /** File names inside {@link #dir}. */
  public final String labels;
  public final String preprocess;
  /** At least one; every precision published for this model. */
  public final List<ModelFile> files;

  private ModelEntry(String name, String title, String dir, String dataset, int numClasses,
                     int imageSize, String labels, String preprocess, List<ModelFile> files) {
    this.name = name;
    this.title = title;
    this.dir = dir;
    this.dataset = dataset;
    this.numClasses = numClasses;
    this.imageSize = imageSize;
    this.labels = labels;
    this.preprocess = preprocess;
    this.files = Collections.unmodifiableList(files);
  }

  static ModelEntry parse(Object json, String where) {
    JsonFields f = new JsonFields(json, where);
    String name = f.string("name");
    List<ModelFile> files = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    List<?> list = f.list("files", true);
    for (int i = 0; i < list.size(); i++) {
      ModelFile file = ModelFile.parse(list.get(i), where + ".files[" + i + "]");
      if (!seen.add(file.file)) {
        throw JsonFields.fail(where + " lists " + file.file + " twice");
      }
      files.add(file);
    }
    return new ModelEntry(name, f.optionalString("title", name), f.fileName("dir"),
        f.optionalString("dataset", null), (int) f.integer("num_classes", 1, 1_000_000),
        (int) f.integer("image_size", 1, 4096), f.fileName("labels"), f.fileName("preprocess"),
        files);
  }

  @Override
  public String toString() {
    return title;
  }
}
