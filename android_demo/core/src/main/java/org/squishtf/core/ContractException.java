package org.squishtf.core;

/** The preprocessing contract (preprocess.json) is missing, malformed or asks for something unsupported. */
public class ContractException extends IllegalArgumentException {
  public ContractException(String message) {
    super(message);
  }
}
