package org.squishtf.core;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

public class BundleCheckTest {
  private static final ModelEntry MODEL = ModelIndex.parse(ModelIndexTest.INDEX).models.get(0);
  private static final Labels TEN = Labels.parse("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");

  @Test
  public void acceptsFilesThatAgree() {
    BundleCheck.check(MODEL, Contract.parse(ContractTest.PYTHON), TEN);
  }

  @Test
  public void namesAnImageSizeDisagreement() {
    Contract c32 = Contract.parse(ContractTest.PYTHON.replace("\"image_size\": 64",
        "\"image_size\": 32"));
    try {
      BundleCheck.check(MODEL, c32, TEN);
      fail("accepted image_size 32 for a 64 model");
    } catch (ContractException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("image_size 64 but its preprocess.json"
          + " says 32"));
    }
  }

  @Test
  public void namesALabelCountDisagreement() {
    try {
      BundleCheck.check(MODEL, Contract.parse(ContractTest.PYTHON), Labels.parse("a\nb\n"));
      fail("accepted 2 labels for 10 classes");
    } catch (LabelException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("has 2 labels but models.json says"
          + " squishednet-1 has 10 classes"));
    }
  }
}
