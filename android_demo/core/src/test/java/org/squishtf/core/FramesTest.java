package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;

import java.nio.ByteBuffer;
import org.junit.Test;

public class FramesTest {
  /** A 3x2 RGBA frame whose pixel (x, y) has red = 10*y + x, with 4 padding bytes per row. */
  private static ByteBuffer frame() {
    int rowStride = 3 * 4 + 4;
    ByteBuffer buf = ByteBuffer.allocate(rowStride * 2);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        int p = y * rowStride + x * 4;
        buf.put(p, (byte) (10 * y + x));
        buf.put(p + 1, (byte) 200);
        buf.put(p + 2, (byte) 255);
        buf.put(p + 3, (byte) 255);
      }
    }
    return buf;
  }

  private static int[] reds(int[] argb) {
    int[] r = new int[argb.length];
    for (int i = 0; i < argb.length; i++) {
      r[i] = (argb[i] >> 16) & 0xff;
    }
    return r;
  }

  @Test
  public void unpacksRgbaWithRowPadding() {
    int[] out = Frames.rgbaToArgb(frame(), 3, 2, 16, 4, 0);
    assertArrayEquals(new int[] {0, 1, 2, 10, 11, 12}, reds(out));
    assertEquals(0xff00c8ff, out[0]);
  }

  @Test
  public void rotatesClockwise() {
    // 90 degrees clockwise: upright is 2 wide, 3 tall; its first row is the old first column, bottom up
    assertArrayEquals(new int[] {10, 0, 11, 1, 12, 2}, reds(Frames.rgbaToArgb(frame(), 3, 2, 16, 4, 90)));
    assertArrayEquals(new int[] {12, 11, 10, 2, 1, 0}, reds(Frames.rgbaToArgb(frame(), 3, 2, 16, 4, 180)));
    assertArrayEquals(new int[] {2, 12, 1, 11, 0, 10}, reds(Frames.rgbaToArgb(frame(), 3, 2, 16, 4, 270)));
    assertEquals(2, Frames.uprightWidth(3, 2, 90));
    assertEquals(3, Frames.uprightHeight(3, 2, 270));
    assertEquals(3, Frames.uprightWidth(3, 2, 180));
  }
}
