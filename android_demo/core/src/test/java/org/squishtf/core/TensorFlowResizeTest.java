package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;
import org.junit.Test;

/**
 * The core's resize against TensorFlow at image sizes that are not powers of two. The golden
 * models take 64x64, where every bilinear weight is an exact binary fraction and the order of
 * float operations cannot show; at 7, 28, 48, 72 or 100 it does (a + (b - a) * dx and
 * a * (1 - dx) + b * dx differ in the last bit), so these cases pin TensorFlow's order.
 * tf_resize/ holds random-noise PNGs and what squish_tf.preprocess's TensorFlow ops make of
 * them (reference.json says which TensorFlow); they do not depend on any model.
 */
public class TensorFlowResizeTest {
  private static byte[] resource(String name) throws IOException {
    try (InputStream in = TensorFlowResizeTest.class.getResourceAsStream("/tf_resize/" + name)) {
      assertNotNull("missing test resource tf_resize/" + name, in);
      return in.readAllBytes();
    }
  }

  private static float[] tensor(String name) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(resource(name)))) {
      ByteBuffer b = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[b.remaining() / 4];
      b.asFloatBuffer().get(out);
      return out;
    }
  }

  @Test
  public void bitForBitTensorFlowAtOtherSizes() throws IOException {
    Map<?, ?> manifest = (Map<?, ?>) Json.parse(new String(resource("reference.json"),
        StandardCharsets.UTF_8));
    assertEquals("squish_tf.resize_reference/1", manifest.get("format"));
    List<?> cases = (List<?>) manifest.get("cases");
    assertTrue(cases.size() >= 4);
    for (Object c : cases) {
      Map<?, ?> m = (Map<?, ?>) c;
      int size = ((Double) m.get("image_size")).intValue();
      Contract contract = FrameSamplerTest.contract(size);
      BufferedImage png = ImageIO.read(new ByteArrayInputStream(resource((String) m.get("png"))));
      int w = png.getWidth();
      int h = png.getHeight();
      int[] argb = png.getRGB(0, 0, w, h, null, 0, w);
      float[] want = tensor((String) m.get("input"));
      float[] got = new Preprocessor(contract).process(argb, w, h);
      assertEquals(m.get("name") + " length", want.length, got.length);
      int differ = 0;
      for (int i = 0; i < want.length; i++) {
        differ += Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i]) ? 1 : 0;
      }
      if (differ > 0) {
        fail(m.get("name") + ": " + differ + " of " + want.length + " floats differ from TensorFlow");
      }
    }
  }
}
