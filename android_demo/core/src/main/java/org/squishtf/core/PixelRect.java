package org.squishtf.core;

/** An integer pixel rectangle, {@code right} and {@code bottom} exclusive (like Android's Rect). */
public final class PixelRect {
  public final int left;
  public final int top;
  public final int right;
  public final int bottom;

  public PixelRect(int left, int top, int right, int bottom) {
    if (right < left || bottom < top) {
      throw new IllegalArgumentException("rectangle has negative size: " + left + "," + top
          + " to " + right + "," + bottom);
    }
    this.left = left;
    this.top = top;
    this.right = right;
    this.bottom = bottom;
  }

  public int width() {
    return right - left;
  }

  public int height() {
    return bottom - top;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof PixelRect)) {
      return false;
    }
    PixelRect r = (PixelRect) o;
    return left == r.left && top == r.top && right == r.right && bottom == r.bottom;
  }

  @Override
  public int hashCode() {
    return ((left * 31 + top) * 31 + right) * 31 + bottom;
  }

  @Override
  public String toString() {
    return "PixelRect(" + left + ", " + top + ", " + right + ", " + bottom + ")";
  }
}
