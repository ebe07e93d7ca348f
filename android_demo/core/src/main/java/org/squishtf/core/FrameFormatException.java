package org.squishtf.core;

/** A camera frame this app cannot read (size, strides, rotation or buffer length). */
public class FrameFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public FrameFormatException(String message) {
    super(message);
  }
}
