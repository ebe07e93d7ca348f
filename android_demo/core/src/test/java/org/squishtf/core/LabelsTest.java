package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import org.junit.Test;

public class LabelsTest {
  @Test
  public void readsOneLabelPerLineIgnoringTrailingNewlines() {
    Labels l = Labels.parse("cat\r\ndog\nred fox \n\n");
    assertEquals(Arrays.asList("cat", "dog", "red fox"), l.asList());
    l.checkMatches(3);
  }

  @Test
  public void countMismatchNamesBothNumbers() {
    try {
      Labels.parse("a\nb\n").checkMatches(10);
      fail();
    } catch (LabelException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("2 labels")
          && e.getMessage().contains("outputs 10 scores"));
    }
  }

  @Test
  public void rejectsEmptyAndBlankLines() {
    for (String bad : new String[] {"", "\n\n", "a\n\nb\n"}) {
      try {
        Labels.parse(bad);
        fail("accepted " + bad);
      } catch (LabelException expected) {
        // the message names the problem
      }
    }
  }
}
