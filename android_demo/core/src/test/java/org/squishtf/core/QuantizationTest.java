package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;

import org.junit.Test;

public class QuantizationTest {
  @Test
  public void roundsHalfAwayFromZeroAndClamps() {
    Quantization q = new Quantization(0.5f, -3);
    byte[] got = q.quantize(new float[] {0f, 0.25f, -0.25f, 1f, 1000f, -1000f});
    assertArrayEquals(new byte[] {-3, -2, -4, -1, 127, -128}, got);
  }

  @Test
  public void dequantizeInvertsOnTheGrid() {
    Quantization q = new Quantization(1 / 256f, -128);  // TFLite's usual softmax output params
    float[] probs = {0f, 0.5f, 0.25f, 0.99609375f};
    assertArrayEquals(probs, q.dequantize(q.quantize(probs)), 0f);
  }
}
