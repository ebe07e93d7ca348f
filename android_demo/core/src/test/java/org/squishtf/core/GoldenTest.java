package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

/**
 * The core against golden vectors squish_tf writes from real images and a real model, one run
 * per variant directory under golden/ (for example squishednet-1_float32 and
 * squishednet-1_int8): the same float32 input tensor as squish_tf.preprocess bit for bit (both
 * through the Preprocessor and through the camera path in every rotation), for int8 the same
 * quantized bytes, the same dequantized outputs, and the interpreter's top-3.
 */
@RunWith(Parameterized.class)
public class GoldenTest {
  private final GoldenVariant v;

  public GoldenTest(String name) throws IOException {
    v = GoldenVariant.load(name);
  }

  @Parameterized.Parameters(name = "{0}")
  public static Collection<Object[]> variants() throws IOException {
    List<Object[]> out = new ArrayList<>();
    for (String name : GoldenVariant.names()) {
      out.add(new Object[] {name});
    }
    if (out.isEmpty()) {
      throw new IllegalStateException("no golden variants (golden/<variant>/golden.json) found");
    }
    return out;
  }

  private int[] argb(Map<String, Object> image) throws IOException {
    BufferedImage png = ImageIO.read(new ByteArrayInputStream(v.bytes((String) image.get("png"))));
    int w = png.getWidth();
    int h = png.getHeight();
    assertEquals(image.get("name") + " width", GoldenVariant.integer(image.get("width")), w);
    assertEquals(image.get("name") + " height", GoldenVariant.integer(image.get("height")), h);
    return png.getRGB(0, 0, w, h, null, 0, w);
  }

  private static void assertSameBits(String where, float[] want, float[] got) {
    assertEquals(where + ": length", want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
        fail(where + ": element " + i + " (pixel " + (i / 3) + ", channel " + (i % 3) + ") is "
            + got[i] + ", Python has " + want[i]);
      }
    }
  }

  @Test
  public void manifestDescribesTheVariant() {
    assertEquals(GoldenVariant.FORMAT, v.manifest.get("format"));
    Map<String, Object> model = v.model();
    assertTrue("precision " + v.precision(), List.of("float32", "int8").contains(v.precision()));
    assertEquals("variant directory is <model dir>_<precision>",
        model.get("dir") + "_" + v.precision(), v.name);
    assertTrue(((String) model.get("file")).endsWith(".tflite"));
    assertTrue(((String) model.get("sha256")).matches("[0-9a-f]{64}"));
    assertTrue(GoldenVariant.integer(model.get("bytes")) > 0);
    assertEquals(v.contract.imageSize, GoldenVariant.integer(v.manifest.get("image_size")));
    assertEquals("quantization is there exactly for int8", v.isInt8(),
        v.manifest.containsKey("quantization"));
    boolean wideOdd = false;
    boolean tallOdd = false;
    for (Map<String, Object> image : v.images()) {
      int w = GoldenVariant.integer(image.get("width"));
      int h = GoldenVariant.integer(image.get("height"));
      wideOdd |= w > h && (w - h) % 2 == 1;
      tallOdd |= h > w && (h - w) % 2 == 1;
      assertEquals(image.get("name") + " has int8 files exactly for int8", v.isInt8(),
          image.containsKey("input_int8") && image.containsKey("output_int8"));
      assertEquals(image.get("name") + " output size", v.labels.size(),
          ((List<?>) image.get("output")).size());
    }
    assertTrue("the images exercise the floored crop offset on both axes", wideOdd && tallOdd);
    assertTrue("golden set has at least 4 images", v.images().size() >= 4);
  }

  @Test
  public void inputTensorsArePythonsBitForBit() throws IOException {
    Preprocessor pre = new Preprocessor(v.contract);
    for (Map<String, Object> image : v.images()) {
      int[] argb = argb(image);
      float[] got = pre.process(argb, GoldenVariant.integer(image.get("width")),
          GoldenVariant.integer(image.get("height")));
      assertSameBits(v.name + "/" + image.get("name"), v.floatTensor((String) image.get("input")),
          got);
    }
  }

  /**
   * The app's camera path: the PNG laid out as an RGBA sensor frame (padded rows) that must be
   * rotated by 0, 90, 180 or 270 degrees to be upright, sampled by the FrameSampler.
   */
  @Test
  public void cameraPathGivesPythonsBitsInEveryRotation() throws IOException {
    FrameSampler sampler = new FrameSampler(v.contract);
    for (Map<String, Object> image : v.images()) {
      int[] argb = argb(image);
      int w = GoldenVariant.integer(image.get("width"));
      int h = GoldenVariant.integer(image.get("height"));
      float[] want = v.floatTensor((String) image.get("input"));
      for (int rotation : new int[] {0, 90, 180, 270}) {
        boolean swap = rotation % 180 == 90;
        int sw = swap ? h : w;  // sensor size
        int sh = swap ? w : h;
        int rowStride = sw * 4 + 12;
        ByteBuffer plane = ByteBuffer.allocate(rowStride * sh);
        for (int uy = 0; uy < h; uy++) {
          for (int ux = 0; ux < w; ux++) {
            int sx;
            int sy;
            switch (rotation) {
              case 90: sx = uy; sy = sh - 1 - ux; break;
              case 180: sx = sw - 1 - ux; sy = sh - 1 - uy; break;
              case 270: sx = sw - 1 - uy; sy = ux; break;
              default: sx = ux; sy = uy; break;
            }
            int p = argb[uy * w + ux];
            int at = sy * rowStride + sx * 4;
            plane.put(at, (byte) (p >> 16)).put(at + 1, (byte) (p >> 8)).put(at + 2, (byte) p)
                .put(at + 3, (byte) 0xff);
          }
        }
        assertArrayEquals("the sensor layout is right", argb,
            Frames.rgbaToArgb(plane, sw, sh, rowStride, 4, rotation));
        float[] got = sampler.sample(new RgbaFrame(plane, sw, sh, rowStride, 4, rotation));
        assertSameBits(v.name + "/" + image.get("name") + " rotated " + rotation, want, got);
      }
    }
  }

  @Test
  public void int8InputsAndOutputsArePythonsExactly() throws IOException {
    for (Map<String, Object> image : v.images()) {
      String where = v.name + "/" + image.get("name");
      if (!v.isInt8()) {
        assertFalse(where + ": float32 variant with an int8 tensor", image.containsKey("input_int8"));
        continue;
      }
      byte[] got = v.quantization("input").quantize(v.floatTensor((String) image.get("input")));
      byte[] want = v.gunzip((String) image.get("input_int8"));
      assertEquals(where + ": int8 tensor length", want.length, got.length);
      for (int i = 0; i < want.length; i++) {
        if (want[i] != got[i]) {
          fail(where + ": int8 element " + i + " is " + got[i] + ", Python has " + want[i]);
        }
      }
      List<?> outInt8 = (List<?>) image.get("output_int8");
      byte[] q = new byte[outInt8.size()];
      for (int i = 0; i < q.length; i++) {
        int value = GoldenVariant.integer(outInt8.get(i));
        assertTrue(where + ": output_int8 " + value, value >= -128 && value <= 127);
        q[i] = (byte) value;
      }
      assertSameBits(where + ": dequantized output", GoldenVariant.floats(image.get("output")),
          v.quantization("output").dequantize(q));
    }
  }

  @Test
  public void topThreeMatchesTheInterpreter() {
    for (Map<String, Object> image : v.images()) {
      float[] output = GoldenVariant.floats(image.get("output"));
      List<Prediction> top = Scores.topK(Scores.probabilities(output, v.contract.output), 3,
          v.labels);
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> want = (List<Map<String, Object>>) image.get("top3");
      assertEquals(want.size(), top.size());
      for (int k = 0; k < want.size(); k++) {
        String where = v.name + "/" + image.get("name") + " rank " + (k + 1);
        assertEquals(where, GoldenVariant.integer(want.get(k).get("index")), top.get(k).index);
        assertEquals(where, want.get(k).get("label"), top.get(k).label);
        assertEquals(where, Float.floatToIntBits(((Double) want.get(k).get("score")).floatValue()),
            Float.floatToIntBits(top.get(k).score));
      }
    }
  }
}
