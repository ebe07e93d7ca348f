package org.squishtf.core;

/** The camera could not be opened or bound (the app wraps CameraX's failure in this). */
public class CameraException extends Exception {
  private static final long serialVersionUID = 1L;

  public CameraException(String message, Throwable cause) {
    super(message, cause);
  }
}
