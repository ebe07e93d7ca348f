package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * One directory of golden vectors (format squish_tf.golden/2) under the test resources'
 * {@code golden/}: golden.json, preprocess.json, labels.txt and per image a PNG, its float32
 * input tensor and, for int8 models, its int8 input tensor, as squish_tf writes them.
 */
final class GoldenVariant {
  static final String FORMAT = "squish_tf.golden/2";

  final String name;
  final Path dir;
  final Map<String, Object> manifest;
  final Contract contract;
  final Labels labels;

  @SuppressWarnings("unchecked")
  private GoldenVariant(String name) throws IOException {
    this.name = name;
    this.dir = root().resolve(name);
    this.manifest = (Map<String, Object>) Json.parse(text("golden.json"));
    this.contract = Contract.parse(text("preprocess.json"));
    this.labels = Labels.parse(text("labels.txt"));
  }

  static GoldenVariant load(String name) throws IOException {
    return new GoldenVariant(name);
  }

  /** The golden/ directory; it must be a directory on the class path (not inside a jar). */
  static Path root() {
    URL url = GoldenVariant.class.getResource("/golden");
    assertNotNull("no golden/ directory on the test class path (core/src/test/resources)", url);
    assertEquals("golden/ must be a directory, not inside a jar: " + url, "file", url.getProtocol());
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(url.toString(), e);
    }
  }

  /** Every sub-directory of golden/ that holds a golden.json, sorted. */
  static List<String> names() throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> entries = Files.list(root())) {
      entries.filter(p -> Files.isRegularFile(p.resolve("golden.json")))
          .forEach(p -> out.add(p.getFileName().toString()));
    }
    out.sort(null);
    return out;
  }

  byte[] bytes(String file) throws IOException {
    Path p = dir.resolve(file);
    assertTrue(name + " lacks " + file, Files.isRegularFile(p));
    return Files.readAllBytes(p);
  }

  String text(String file) throws IOException {
    return new String(bytes(file), StandardCharsets.UTF_8);
  }

  byte[] gunzip(String file) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes(file)))) {
      return in.readAllBytes();
    }
  }

  /** A gzipped little-endian float32 tensor. */
  float[] floatTensor(String file) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(gunzip(file)).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[buf.remaining() / 4];
    buf.asFloatBuffer().get(out);
    return out;
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> model() {
    return (Map<String, Object>) manifest.get("model");
  }

  String precision() {
    return (String) model().get("precision");
  }

  boolean isInt8() {
    return "int8".equals(precision());
  }

  @SuppressWarnings("unchecked")
  List<Map<String, Object>> images() {
    return (List<Map<String, Object>>) manifest.get("images");
  }

  /** The manifest's quantization of "input" or "output" (int8 variants only). */
  Quantization quantization(String which) {
    Map<?, ?> q = (Map<?, ?>) ((Map<?, ?>) manifest.get("quantization")).get(which);
    return new Quantization(((Double) q.get("scale")).floatValue(),
        ((Double) q.get("zero_point")).intValue());
  }

  static int integer(Object json) {
    double d = (Double) json;
    assertEquals("not an integer: " + d, Math.rint(d), d, 0);
    return (int) d;
  }

  /** A JSON list of numbers as float32 (each is a float32 value printed as a double: exact). */
  static float[] floats(Object list) {
    List<?> values = (List<?>) list;
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      double d = (Double) values.get(i);
      out[i] = (float) d;
      assertEquals("not a float32 value: " + d, d, (double) out[i], 0);
    }
    return out;
  }

  @Override
  public String toString() {
    return name;
  }
}
