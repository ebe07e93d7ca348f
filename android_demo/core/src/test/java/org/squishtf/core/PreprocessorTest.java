package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class PreprocessorTest {
  /** The float32 scale TensorFlow multiplies by (pixel * (1/255), not pixel / 255). */
  private static final float S = (float) (1.0 / 255.0);

  private static Contract contract(int size, String order) {
    return Contract.parse(ContractTest.PYTHON.replace("\"image_size\": 64", "\"image_size\": " + size)
        .replace("\"RGB\"", "\"" + order + "\""));
  }

  private static int argb(int r, int g, int b) {
    return 0xff000000 | (r << 16) | (g << 8) | b;
  }

  @Test
  public void sameSizeIsIdentityScaled() {
    int[] px = {argb(255, 0, 10), argb(1, 2, 3), argb(4, 5, 6), argb(7, 8, 9)};
    float[] x = new Preprocessor(contract(2, "RGB")).process(px, 2, 2);
    float s = S;
    assertArrayEquals(new float[] {255 * s, 0, 10 * s, 1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s,
        7 * s, 8 * s, 9 * s}, x, 0f);
  }

  @Test
  public void cropsTheCentredSquareOfAWideImage() {
    // 5x2: columns 0 and 4 are red, the centre 2x2 square (columns 1-2, offset (5-2)/2 = 1) is grey
    int[] px = new int[10];
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 5; x++) {
        px[y * 5 + x] = (x == 1 || x == 2) ? argb(100, 100, 100) : argb(255, 0, 0);
      }
    }
    float[] out = new Preprocessor(contract(4, "RGB")).process(px, 5, 2);
    for (float v : out) {
      assertEquals(100 * S, v, 0f);
    }
  }

  @Test
  public void cropsTheCentredSquareOfATallImage() {
    // 1x4: rows 0..3; side 1, offset (4-1)/2 = 1: row 1
    int[] px = {argb(0, 0, 0), argb(51, 102, 153), argb(255, 255, 255), argb(9, 9, 9)};
    float[] out = new Preprocessor(contract(3, "RGB")).process(px, 1, 4);
    for (int i = 0; i < out.length; i += 3) {
      assertEquals(51 * S, out[i], 0f);
      assertEquals(102 * S, out[i + 1], 0f);
      assertEquals(153 * S, out[i + 2], 0f);
    }
  }

  @Test
  public void upsamplesWithHalfPixelCentres() {
    // 2x2 to 4x4: output x=1 samples input (1 + 0.5) * 0.5 - 0.5 = 0.25 -> 0.75*a + 0.25*b
    int[] px = {argb(0, 0, 0), argb(200, 200, 200), argb(0, 0, 0), argb(200, 200, 200)};
    float[] out = new Preprocessor(contract(4, "RGB")).process(px, 2, 2);
    float[] row = new float[4];
    for (int x = 0; x < 4; x++) {
      row[x] = out[x * 3] * 255f;
    }
    assertArrayEquals(new float[] {0f, 50f, 150f, 200f}, row, 1e-4f);
  }

  @Test
  public void bgrSwapsChannelsAndAlphaIsIgnored() {
    int[] px = {0x10000000 | (30 << 16) | (20 << 8) | 10};
    float[] out = new Preprocessor(contract(1, "BGR")).process(px, 1, 1);
    assertArrayEquals(new float[] {10 * S, 20 * S, 30 * S}, out, 0f);
  }
}
