package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** The bundled models, from tflite/models.json (a list of {name, dir, title?, top1?, bytes?}). */
public final class ModelIndex {
  /** One published model. */
  public static final class Entry {
    public final String name;
    public final String dir;
    public final String title;
    /** Test top-1 from the report, or NaN when absent. */
    public final double top1;
    /** .tflite size in bytes, or -1 when absent. */
    public final long bytes;

    Entry(String name, String dir, String title, double top1, long bytes) {
      this.name = name;
      this.dir = dir;
      this.title = title;
      this.top1 = top1;
      this.bytes = bytes;
    }

    @Override
    public String toString() {
      return title;
    }
  }

  private ModelIndex() {}

  public static List<Entry> parse(String json) {
    Object root;
    try {
      root = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("models.json is not valid JSON (" + e.getMessage() + ")");
    }
    if (!(root instanceof List) || ((List<?>) root).isEmpty()) {
      throw new IllegalArgumentException("models.json must be a non-empty list of models;"
          + " publish models with squish-report and rebuild the app");
    }
    List<Entry> entries = new ArrayList<>();
    for (Object item : (List<?>) root) {
      if (!(item instanceof Map)) {
        throw new IllegalArgumentException("models.json entries must be objects, got " + item);
      }
      Map<?, ?> m = (Map<?, ?>) item;
      Object name = m.get("name");
      Object dir = m.get("dir");
      if (!(name instanceof String) || !(dir instanceof String)) {
        throw new IllegalArgumentException("models.json entry lacks a \"name\" or \"dir\": " + m);
      }
      Object title = m.get("title");
      Object top1 = m.get("top1");
      Object bytes = m.get("bytes");
      entries.add(new Entry((String) name, (String) dir,
          title instanceof String ? (String) title : (String) name,
          top1 instanceof Double ? (Double) top1 : Double.NaN,
          bytes instanceof Double ? ((Double) bytes).longValue() : -1));
    }
    return Collections.unmodifiableList(entries);
  }
}
