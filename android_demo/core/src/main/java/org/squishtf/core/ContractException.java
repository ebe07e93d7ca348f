package org.squishtf.core;

/** The preprocessing contract (preprocess.json) is missing, malformed or asks for something unsupported. */
public class ContractException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public ContractException(String message) {
    super(message);
  }
}
