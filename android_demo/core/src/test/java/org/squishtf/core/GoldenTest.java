package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The core against golden vectors written by {@code squish-golden} (squish_tf/golden.py) from a
 * real tflite/ model: same input tensors as squish_tf.preprocess (within the manifest's stated
 * tolerance) and the same top-3 from the LiteRT interpreter's stored outputs.
 */
public class GoldenTest {
  private static Map<String, Object> manifest;
  private static Contract contract;
  private static Labels labels;

  @BeforeClass
  @SuppressWarnings("unchecked")
  public static void load() throws IOException {
    manifest = (Map<String, Object>) Json.parse(text("golden.json"));
    contract = Contract.parse(text("preprocess.json"));
    labels = Labels.parse(text("labels.txt"));
  }

  static byte[] bytes(String name) throws IOException {
    try (InputStream in = GoldenTest.class.getResourceAsStream("/golden/" + name)) {
      assertNotNull("missing test resource golden/" + name, in);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }

  static String text(String name) throws IOException {
    return new String(bytes(name), StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> images() {
    return (List<Map<String, Object>>) manifest.get("images");
  }

  private static float[] expectedInput(String name) throws IOException {
    try (InputStream in = new GZIPInputStream(GoldenTest.class.getResourceAsStream("/golden/" + name))) {
      ByteBuffer buf = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[buf.remaining() / 4];
      buf.asFloatBuffer().get(out);
      return out;
    }
  }

  private static float[] floats(Object list) {
    List<?> values = (List<?>) list;
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Double) values.get(i)).floatValue();
    }
    return out;
  }

  @Test
  public void manifestDescribesAModel() {
    assertEquals("squish_tf.golden/1", manifest.get("format"));
    assertEquals(contract.imageSize, ((Double) manifest.get("image_size")).intValue());
    assertTrue("golden set has at least 4 images", images().size() >= 4);
  }

  @Test
  public void inputTensorsMatchPythonPreprocessing() throws IOException {
    double tolerance = (Double) ((Map<?, ?>) manifest.get("tolerance")).get("input_max_abs_diff");
    Preprocessor pre = new Preprocessor(contract);
    double worst = 0;
    for (Map<String, Object> image : images()) {
      BufferedImage png = ImageIO.read(new java.io.ByteArrayInputStream(bytes((String) image.get("png"))));
      int w = png.getWidth();
      int h = png.getHeight();
      assertEquals(((Double) image.get("width")).intValue(), w);
      assertEquals(((Double) image.get("height")).intValue(), h);
      int[] argb = png.getRGB(0, 0, w, h, null, 0, w);
      float[] got = pre.process(argb, w, h);
      float[] want = expectedInput((String) image.get("input"));
      assertEquals(image.get("name") + ": tensor length", want.length, got.length);
      double maxDiff = 0;
      for (int i = 0; i < want.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
      }
      System.out.printf("golden %-20s %dx%d -> %d floats, max |diff| %.2e (tolerance %.0e)%n",
          image.get("name"), w, h, got.length, maxDiff, tolerance);
      assertTrue(image.get("name") + ": max |diff| " + maxDiff + " > " + tolerance,
          maxDiff <= tolerance);
      worst = Math.max(worst, maxDiff);
    }
    assertFalse(Double.isNaN(worst));
  }

  @Test
  public void topThreeMatchesInterpreterOutputs() {
    for (Map<String, Object> image : images()) {
      float[] output = floats(image.get("output"));
      labels.checkMatches(output.length);
      List<Prediction> top = Scores.topK(Scores.probabilities(output, contract.output), 3, labels);
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> want = (List<Map<String, Object>>) image.get("top3");
      assertEquals(want.size(), top.size());
      for (int k = 0; k < want.size(); k++) {
        String where = image.get("name") + " rank " + (k + 1);
        assertEquals(where, ((Double) want.get(k).get("index")).intValue(), top.get(k).index);
        assertEquals(where, want.get(k).get("label"), top.get(k).label);
        assertEquals(where, ((Double) want.get(k).get("score")).floatValue(), top.get(k).score, 1e-7f);
      }
    }
  }
}
