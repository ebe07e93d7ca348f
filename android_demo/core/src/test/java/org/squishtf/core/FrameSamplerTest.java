package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.Test;

public class FrameSamplerTest {
  static Contract contract(int size, String order, String scale, String offset) {
    return Contract.parse(ContractTest.PYTHON
        .replace("\"image_size\": 64", "\"image_size\": " + size)
        .replace("\"RGB\"", "\"" + order + "\"")
        .replace("\"scale\": 0.00392156862745098", "\"scale\": " + scale)
        .replace("\"offset\": 0.0", "\"offset\": " + offset));
  }

  static Contract contract(int size) {
    return contract(size, "RGB", "0.00392156862745098", "0.0");
  }

  /**
   * A random RGBA plane starting at {@code position}, rows padded by {@code padding} bytes except
   * the last one (CameraX's last row can stop right after its pixels).
   */
  static ByteBuffer randomPlane(Random rnd, int width, int height, int rowStride, int pixelStride,
                                int position) {
    int length = position + (height - 1) * rowStride + (width - 1) * pixelStride + 4;
    byte[] bytes = new byte[length];
    rnd.nextBytes(bytes);
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.position(position);
    return b;
  }

  /** Today's path: the whole frame to upright ARGB, then the Preprocessor. */
  static float[] reference(Contract c, ByteBuffer b, int w, int h, int rowStride, int pixelStride,
                           int rotation) {
    int[] argb = Frames.rgbaToArgb(b, w, h, rowStride, pixelStride, rotation);
    return new Preprocessor(c).process(argb, Frames.uprightWidth(w, h, rotation),
        Frames.uprightHeight(w, h, rotation));
  }

  static void assertSameBits(String where, float[] want, float[] got) {
    assertEquals(where + ": length", want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
        fail(where + ": element " + i + " is " + got[i] + ", expected " + want[i]);
      }
    }
  }

  @Test
  public void sameBitsAsConvertingTheWholeFrame() {
    Random rnd = new Random(15);
    int[][] sizes = {{640, 480}, {480, 640}, {321, 241}, {64, 64}, {65, 100}, {7, 5}, {1, 3}};
    Contract[] contracts = {contract(64), contract(28, "BGR", "[0.5, 0.25, 2]", "[-1, 0, 1.5]"),
        contract(1)};
    int cases = 0;
    for (int[] wh : sizes) {
      for (int rotation : new int[] {0, 90, 180, 270}) {
        for (Contract c : contracts) {
          int w = wh[0];
          int h = wh[1];
          int pixelStride = rnd.nextInt(4) == 0 ? 8 : 4;
          int rowStride = w * pixelStride + rnd.nextInt(3) * 32;
          int position = rnd.nextInt(3) * 4;
          ByteBuffer b = randomPlane(rnd, w, h, rowStride, pixelStride, position);
          float[] want = reference(c, b, w, h, rowStride, pixelStride, rotation);
          RgbaFrame frame = new RgbaFrame(b, w, h, rowStride, pixelStride, rotation);
          assertSameBits(w + "x" + h + " rotated " + rotation + " to " + c.imageSize, want,
              new FrameSampler(c).sample(frame));
          cases++;
        }
      }
    }
    assertEquals(7 * 4 * 3, cases);
  }

  @Test
  public void reusedSamplerFollowsChangingFrameSizes() {
    Random rnd = new Random(7);
    FrameSampler sampler = new FrameSampler(contract(32));
    float[] out = new float[32 * 32 * 3];
    for (int[] f : new int[][] {{640, 480, 90}, {320, 240, 0}, {640, 480, 270}, {100, 300, 180}}) {
      ByteBuffer b = randomPlane(rnd, f[0], f[1], f[0] * 4, 4, 0);
      sampler.sample(new RgbaFrame(b, f[0], f[1], f[0] * 4, 4, f[2]), out);
      assertSameBits(f[0] + "x" + f[1], reference(contract(32), b, f[0], f[1], f[0] * 4, 4, f[2]),
          out);
    }
  }

  /**
   * The sensor pixels a half-pixel bilinear resize of the centred square reads, worked out here
   * from the definition: source coordinate (o + 0.5) * side / size - 0.5, its floor and ceiling
   * clamped to the square, then upright (x, y) to sensor coordinates.
   */
  private static Set<Integer> neededPixels(int w, int h, int rotation, int size) {
    boolean swap = rotation % 180 == 90;
    int uw = swap ? h : w;
    int uh = swap ? w : h;
    int side = Math.min(uw, uh);
    int left = (uw - side) / 2;
    int top = (uh - side) / 2;
    Set<Integer> idx = new HashSet<>();
    for (int o = 0; o < size; o++) {
      float src = (o + 0.5f) * ((float) side / size) - 0.5f;
      idx.add(Math.max((int) Math.floor(src), 0));
      idx.add(Math.min((int) Math.ceil(src), side - 1));
    }
    Set<Integer> pixels = new HashSet<>();
    for (int iy : idx) {
      for (int ix : idx) {
        int ux = left + ix;
        int uy = top + iy;
        int sx;
        int sy;
        switch (rotation) {
          case 90: sx = uy; sy = h - 1 - ux; break;
          case 180: sx = w - 1 - ux; sy = h - 1 - uy; break;
          case 270: sx = w - 1 - uy; sy = ux; break;
          default: sx = ux; sy = uy; break;
        }
        pixels.add(sy * w + sx);
      }
    }
    return pixels;
  }

  @Test
  public void readsOnlyThePixelsTheResizeNeeds() {
    int w = 640;
    int h = 480;
    int size = 64;
    Random rnd = new Random(3);
    for (int rotation : new int[] {0, 90, 180, 270}) {
      ByteBuffer b = randomPlane(rnd, w, h, w * 4, 4, 0);
      float[] before = new FrameSampler(contract(size)).sample(new RgbaFrame(b, w, h, w * 4, 4,
          rotation));
      Set<Integer> needed = neededPixels(w, h, rotation, size);
      assertTrue(needed.size() <= 4 * size * size);
      assertTrue("a 640x480 frame has " + (w * h) + " pixels; the model needs " + needed.size(),
          needed.size() * 15 < w * h);
      for (int p = 0; p < w * h; p++) {  // scramble every pixel the resize must not read
        if (!needed.contains(p)) {
          for (int k = 0; k < 4; k++) {
            b.put(p * 4 + k, (byte) rnd.nextInt());
          }
        }
      }
      float[] after = new FrameSampler(contract(size)).sample(new RgbaFrame(b, w, h, w * 4, 4,
          rotation));
      assertSameBits("rotation " + rotation + " after scrambling unread pixels", before, after);
      // and it does read the needed ones: scrambling those changes the input
      for (int p : needed) {
        b.put(p * 4, (byte) (b.get(p * 4) ^ 0x80));
      }
      float[] changed = new FrameSampler(contract(size)).sample(new RgbaFrame(b, w, h, w * 4, 4,
          rotation));
      assertTrue(Float.floatToIntBits(changed[0]) != Float.floatToIntBits(before[0])
          || Float.floatToIntBits(changed[3]) != Float.floatToIntBits(before[3]));
    }
  }

  @Test
  public void rejectsFramesItCannotRead() {
    ByteBuffer small = ByteBuffer.allocate(4 * 4 * 4 - 1);
    String[] messages = {
        attempt(() -> new RgbaFrame(small, 4, 4, 16, 4, 0)),
        attempt(() -> new RgbaFrame(ByteBuffer.allocate(64), 4, 4, 12, 4, 0)),
        attempt(() -> new RgbaFrame(ByteBuffer.allocate(64), 4, 4, 16, 3, 0)),
        attempt(() -> new RgbaFrame(ByteBuffer.allocate(64), 4, 4, 16, 4, 45)),
        attempt(() -> new RgbaFrame(ByteBuffer.allocate(64), 0, 4, 16, 4, 0))};
    assertTrue(messages[0], messages[0].contains("needs 64"));
    assertTrue(messages[1], messages[1].contains("row 12"));
    assertTrue(messages[2], messages[2].contains("pixel 3"));
    assertTrue(messages[3], messages[3].contains("45"));
    assertTrue(messages[4], messages[4].contains("0x4"));
    RgbaFrame ok = new RgbaFrame(ByteBuffer.allocate(64), 4, 4, 16, 4, -90);
    assertEquals(270, ok.rotationDegrees);
  }

  private static String attempt(Runnable r) {
    try {
      r.run();
    } catch (FrameFormatException e) {
      return e.getMessage();
    }
    fail("accepted an unreadable frame");
    return null;
  }
}
