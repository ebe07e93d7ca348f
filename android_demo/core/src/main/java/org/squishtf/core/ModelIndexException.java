package org.squishtf.core;

/** models.json is malformed, of another format, or lacks what the app needs. */
public class ModelIndexException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ModelIndexException(String message) {
    super(message);
  }
}
