package org.squishtf.core;

import java.util.List;
import java.util.Map;

/**
 * Typed, strict access to one parsed JSON object ({@link Json}) of models.json: a required key
 * that is missing or of the wrong type is a {@link ModelIndexException} naming where it is
 * ({@code where}, for example {@code models[0].files[1].input}); unknown keys are ignored so
 * that newer writers can add fields.
 */
final class JsonFields {
  private final Map<?, ?> map;
  final String where;

  JsonFields(Object value, String where) {
    if (!(value instanceof Map)) {
      throw fail(where + " must be a JSON object, got " + describe(value));
    }
    this.map = (Map<?, ?>) value;
    this.where = where;
  }

  static ModelIndexException fail(String what) {
    return new ModelIndexException("models.json: " + what);
  }

  boolean has(String key) {
    return map.containsKey(key) && map.get(key) != null;
  }

  Object raw(String key) {
    if (!has(key)) {
      throw fail(where + " lacks \"" + key + "\"; re-publish the models with squish-report");
    }
    return map.get(key);
  }

  String string(String key) {
    Object v = raw(key);
    if (!(v instanceof String) || ((String) v).isEmpty()) {
      throw fail(where + "." + key + " must be a non-empty string, got " + describe(v));
    }
    return (String) v;
  }

  String optionalString(String key, String fallback) {
    return has(key) ? string(key) : fallback;
  }

  /** A string that is one plain file or directory name (no path separators, not . or ..). */
  String fileName(String key) {
    String v = string(key);
    if (!v.matches("[A-Za-z0-9._-]+") || v.equals(".") || v.equals("..")) {
      throw fail(where + "." + key + " must be a plain file name, got \"" + v + "\"");
    }
    return v;
  }

  double number(String key) {
    Object v = raw(key);
    if (!(v instanceof Double) || ((Double) v).isNaN() || ((Double) v).isInfinite()) {
      throw fail(where + "." + key + " must be a finite number, got " + describe(v));
    }
    return (Double) v;
  }

  double optionalNumber(String key) {
    return has(key) ? number(key) : Double.NaN;
  }

  long integer(String key, long min, long max) {
    return integer(raw(key), where + "." + key, min, max);
  }

  static long integer(Object v, String where, long min, long max) {
    if (!(v instanceof Double) || (Double) v != Math.rint((Double) v)
        || (Double) v < min || (Double) v > max) {
      throw fail(where + " must be an integer in " + min + ".." + max + ", got " + describe(v));
    }
    return (long) (double) (Double) v;
  }

  List<?> list(String key, boolean nonEmpty) {
    Object v = raw(key);
    if (!(v instanceof List) || (nonEmpty && ((List<?>) v).isEmpty())) {
      throw fail(where + "." + key + " must be a" + (nonEmpty ? " non-empty" : "") + " list, got "
          + describe(v));
    }
    return (List<?>) v;
  }

  int[] intList(String key, int min, int max) {
    List<?> values = list(key, false);
    int[] out = new int[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) integer(values.get(i), where + "." + key + "[" + i + "]", min, max);
    }
    return out;
  }

  static String describe(Object v) {
    if (v == null) {
      return "null";
    }
    String s = v instanceof String ? "\"" + v + "\"" : String.valueOf(v);
    return s.length() > 60 ? s.substring(0, 59) + "\u2026" : s;
  }
}
