package org.squishtf.core;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The preprocessing contract a model ships with (preprocess.json, written by
 * {@code squish_tf.preprocess.contract}). Parsing is strict: an unknown format, key or value is a
 * {@link ContractException}, because silently guessing would feed the model the wrong numbers.
 */
public final class Contract {
  public static final String FORMAT = "squish_tf.preprocess/1";

  /** What the model's output means. */
  public enum Output { PROBABILITIES, LOGITS }

  private static final Set<String> KEYS = new TreeSet<>(Arrays.asList(
      "format", "image_size", "crop", "resize", "channel_order", "layout", "dtype", "scale",
      "offset", "output"));
  private static final int MAX_IMAGE_SIZE = 4096;

  public final int imageSize;
  /** True when the model wants B, G, R channel order instead of R, G, B. */
  public final boolean bgr;
  /** Per-channel x = pixel * scale[c] + offset[c], channels in the model's order. */
  public final float[] scale;
  public final float[] offset;
  public final Output output;

  private Contract(int imageSize, boolean bgr, float[] scale, float[] offset, Output output) {
    this.imageSize = imageSize;
    this.bgr = bgr;
    this.scale = scale;
    this.offset = offset;
    this.output = output;
  }

  /** Parses preprocess.json text. */
  public static Contract parse(String json) {
    Object root;
    try {
      root = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new ContractException("preprocess.json is not valid JSON (" + e.getMessage()
          + "); re-publish the model with squish-report");
    }
    if (!(root instanceof Map)) {
      throw new ContractException("preprocess.json must be a JSON object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) root;
    Object format = map.get("format");
    if (!FORMAT.equals(format)) {
      throw new ContractException("preprocess.json has format " + quote(format) + " but this app"
          + " understands only \"" + FORMAT + "\"; update the app or re-export the model");
    }
    Set<String> unknown = new TreeSet<>(map.keySet());
    unknown.removeAll(KEYS);
    if (!unknown.isEmpty()) {
      throw new ContractException("preprocess.json has keys this app does not understand: "
          + unknown + "; update the app");
    }
    Set<String> missing = new TreeSet<>(KEYS);
    missing.removeAll(map.keySet());
    if (!missing.isEmpty()) {
      throw new ContractException("preprocess.json lacks " + missing + "; re-publish the model");
    }
    requireValue(map, "crop", "center_square");
    requireValue(map, "resize", "bilinear_half_pixel");
    requireValue(map, "layout", "NHWC");
    requireValue(map, "dtype", "float32");
    String order = requireValue(map, "channel_order", "RGB", "BGR");
    String output = requireValue(map, "output", "probabilities", "logits");
    return new Contract(imageSize(map.get("image_size")), order.equals("BGR"),
        perChannel(map, "scale"), perChannel(map, "offset"),
        output.equals("logits") ? Output.LOGITS : Output.PROBABILITIES);
  }

  /** Number of floats in one input tensor: 1 x size x size x 3. */
  public int inputLength() {
    return imageSize * imageSize * 3;
  }

  private static String quote(Object value) {
    return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
  }

  private static String requireValue(Map<String, Object> map, String key, String... allowed) {
    Object value = map.get(key);
    for (String a : allowed) {
      if (a.equals(value)) {
        return a;
      }
    }
    throw new ContractException("preprocess.json " + key + " is " + quote(value)
        + "; this app supports " + Arrays.toString(allowed));
  }

  private static int imageSize(Object value) {
    if (!(value instanceof Double)) {
      throw new ContractException("preprocess.json image_size must be a number, got "
          + quote(value));
    }
    double d = (Double) value;
    if (d != Math.rint(d) || d < 1 || d > MAX_IMAGE_SIZE) {
      throw new ContractException("preprocess.json image_size must be an integer in 1.."
          + MAX_IMAGE_SIZE + ", got " + value);
    }
    return (int) d;
  }

  private static float[] perChannel(Map<String, Object> map, String key) {
    Object value = map.get(key);
    float[] out = new float[3];
    if (value instanceof Double) {
      Arrays.fill(out, finite(key, (Double) value));
      return out;
    }
    if (value instanceof List && ((List<?>) value).size() == 3) {
      for (int c = 0; c < 3; c++) {
        Object v = ((List<?>) value).get(c);
        if (!(v instanceof Double)) {
          break;
        }
        out[c] = finite(key, (Double) v);
        if (c == 2) {
          return out;
        }
      }
    }
    throw new ContractException("preprocess.json " + key
        + " must be a number or a list of 3 numbers, got " + quote(value));
  }

  private static float finite(String key, double v) {
    float f = (float) v;  // what TensorFlow does with the Python float constant
    if (Float.isNaN(f) || Float.isInfinite(f)) {
      throw new ContractException("preprocess.json " + key + " is not a finite float32: " + v);
    }
    return f;
  }
}
