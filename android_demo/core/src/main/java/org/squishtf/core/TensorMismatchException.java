package org.squishtf.core;

/**
 * A model's input or output tensor is not what its contract says: the message names the
 * dimension or dtype, what was expected and what the model has.
 */
public class TensorMismatchException extends ContractException {
  private static final long serialVersionUID = 1L;

  public TensorMismatchException(String message) {
    super(message);
  }
}
