package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class QuantizationTest {
  /** float32 1/255, the usual input scale of an int8 model fed 0..1 pixels. */
  private static final float S255 = Float.intBitsToFloat(0x3b808081);

  @Test
  public void roundsHalvesToEvenLikeNumpy() {
    Quantization q = new Quantization(1f, 0);
    byte[] got = q.quantize(new float[] {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 0.49999997f});
    assertArrayEquals(new byte[] {0, 2, 2, 4, 0, -2, -2, 0}, got);
    // with a scale and zero point: 0.25 / 0.5 = 0.5 -> 0, 0.75 / 0.5 = 1.5 -> 2 (half up gave 1, 2)
    Quantization h = new Quantization(0.5f, -3);
    assertArrayEquals(new byte[] {-3, -1, -5, -1}, h.quantize(new float[] {0.25f, 0.75f, -0.75f, 1f}));
  }

  @Test
  public void dividesInFloat32() {
    // x = 0.021568628f: x / S255 is 5.4999998 exactly, 5.5 in float32 -> 6 (even); double gives 5.
    float x = Float.intBitsToFloat(1018212529);
    assertEquals(5.5f, x / S255, 0f);
    assertTrue((double) x / (double) S255 < 5.5);
    Quantization q = new Quantization(S255, -128);
    assertEquals(6 - 128, q.quantize(x));
    // x = 0.025490198f: 6.5000002 exactly, 6.5 in float32 -> 6 (even); half up would give 7.
    assertEquals(6 - 128, q.quantize(Float.intBitsToFloat(1020317906)));
  }

  @Test
  public void clampsToInt8AndRejectsNaN() {
    Quantization q = new Quantization(0.5f, -3);
    assertArrayEquals(new byte[] {127, -128, 127, -128},
        q.quantize(new float[] {1000f, -1000f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}));
    try {
      q.quantize(Float.NaN);
      fail("quantized NaN");
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("NaN"));
    }
  }

  @Test
  public void dequantizesInFloat32() {
    Quantization q = new Quantization(1 / 256f, -128);  // TFLite's usual softmax output params
    assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.99609375f},
        q.dequantize(new byte[] {-128, -64, 0, 127}), 0f);
    Quantization in = new Quantization(S255, -128);
    // the exact product 255 * S255 is 1.0000000591; float32 rounds it to 1
    assertEquals(Float.floatToIntBits(1f), Float.floatToIntBits(in.dequantize((byte) 127)));
    float[] probs = {0f, 0.5f, 0.25f, 0.99609375f};
    assertArrayEquals(probs, q.dequantize(q.quantize(probs)), 0f);
  }

  @Test
  public void reusesOutputArraysOfTheRightLength() {
    Quantization q = new Quantization(0.1f, 0);
    byte[] out = new byte[2];
    q.quantize(new float[] {0.1f, -0.3f}, out);
    assertArrayEquals(new byte[] {1, -3}, out);
    try {
      q.quantize(new float[3], out);
      fail("wrote 3 values into 2 bytes");
    } catch (IllegalArgumentException expected) {
      // the message gives both lengths
    }
  }

  @Test
  public void rejectsInvalidParameters() {
    for (float scale : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
      try {
        new Quantization(scale, 0);
        fail("accepted scale " + scale);
      } catch (IllegalArgumentException expected) {
        assertTrue(expected.getMessage().contains("scale"));
      }
    }
    try {
      new Quantization(1f, 128);
      fail("accepted zero point 128");
    } catch (IllegalArgumentException expected) {
      assertTrue(expected.getMessage().contains("-128..127"));
    }
  }
}
