package org.squishtf.core;

/** A bundled model file is missing, or is not the file models.json describes. */
public class ModelFileException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The asset path, for example {@code models/squishednet-1/model.tflite}. */
  public final String path;

  public ModelFileException(String path, String problem, Throwable cause) {
    super(path + " " + problem, cause);
    this.path = path;
  }

  public ModelFileException(String path, String problem) {
    this(path, problem, null);
  }
}
