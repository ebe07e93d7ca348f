package org.squishtf.core;

/**
 * The published files of one model agree with each other: models.json's image_size and
 * num_classes with preprocess.json and labels.txt. Checked before LiteRT sees the model, so a
 * mixed-up bundle is reported as that rather than as a tensor mismatch.
 */
public final class BundleCheck {
  private BundleCheck() {}

  public static void check(ModelEntry model, Contract contract, Labels labels) {
    if (model.imageSize != contract.imageSize) {
      throw new ContractException("models.json says " + model.name + " takes image_size "
          + model.imageSize + " but its " + model.preprocess + " says " + contract.imageSize
          + "; publish the model and its preprocess.json together");
    }
    if (model.numClasses != labels.size()) {
      throw new LabelException(model.labels + " has " + labels.size() + " labels but models.json"
          + " says " + model.name + " has " + model.numClasses + " classes; copy the labels"
          + " published with this model");
    }
  }
}
