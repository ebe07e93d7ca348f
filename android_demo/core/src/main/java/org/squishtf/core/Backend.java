package org.squishtf.core;

/** Where LiteRT runs a model. Named apart from LiteRT's own {@code Accelerator} on purpose. */
public enum Backend {
  GPU, CPU
}
