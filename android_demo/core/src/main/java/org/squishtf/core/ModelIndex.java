package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bundled models, from models.json in format {@value #FORMAT} (written by squish-report
 * and copied by the app's copyModels task). Strict about what the app needs (a missing or
 * mistyped required key names where it is); unknown keys are ignored so newer writers can add
 * fields.
 */
public final class ModelIndex {
  public static final String FORMAT = "squish_tf.models/2";

  public final List<ModelEntry> models;

  private ModelIndex(List<ModelEntry> models) {
    this.models = Collections.unmodifiableList(models);
  }

  /** Every (model, file) pair, in file order: what the picker lists. */
  public List<ModelChoice> choices() {
    List<ModelChoice> out = new ArrayList<>();
    for (ModelEntry m : models) {
      for (ModelFile f : m.files) {
        out.add(new ModelChoice(m, f));
      }
    }
    return Collections.unmodifiableList(out);
  }

  public static ModelIndex parse(String json) {
    Object root;
    try {
      root = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw JsonFields.fail("not valid JSON (" + e.getMessage() + ")");
    }
    if (root instanceof List) {
      throw JsonFields.fail("this is the old list format; this app reads \"" + FORMAT
          + "\": re-publish the models with the current squish-report and rebuild the app");
    }
    if (!(root instanceof Map) || !FORMAT.equals(((Map<?, ?>) root).get("format"))) {
      Object format = root instanceof Map ? ((Map<?, ?>) root).get("format") : root;
      throw JsonFields.fail("format is " + JsonFields.describe(format) + " but this app reads \""
          + FORMAT + "\"; publish the models with a matching squish-report, or update the app");
    }
    JsonFields f = new JsonFields(root, "models.json");
    List<?> list = f.list("models", true);
    List<ModelEntry> models = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      ModelEntry m = ModelEntry.parse(list.get(i), "models[" + i + "]");
      if (!names.add(m.name)) {
        throw JsonFields.fail("model name \"" + m.name + "\" appears twice");
      }
      models.add(m);
    }
    return new ModelIndex(models);
  }
}
