package org.squishtf.core;

/** labels.txt is empty, has blank lines, or does not match the model's number of outputs. */
public class LabelException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public LabelException(String message) {
    super(message);
  }
}
