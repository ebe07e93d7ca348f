package org.squishtf.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.util.List;
import org.junit.Test;

public class ScoresTest {
  @Test
  public void softmaxIsStableAndSumsToOne() {
    float[] p = Scores.softmax(new float[] {1000f, 1001f, 999f});
    assertEquals(1.0, p[0] + p[1] + p[2], 1e-6);
    assertEquals(0.66524096f, p[1], 1e-6f);  // e / (1 + e + 1/e)
    assertEquals(0.24472847f, p[0], 1e-6f);
  }

  @Test
  public void probabilitiesPassThroughUnlessLogits() {
    float[] raw = {0.2f, 0.8f};
    assertArrayEquals(raw, Scores.probabilities(raw, Contract.Output.PROBABILITIES), 0f);
    float[] p = Scores.probabilities(new float[] {0f, 0f}, Contract.Output.LOGITS);
    assertArrayEquals(new float[] {0.5f, 0.5f}, p, 0f);
  }

  @Test
  public void topKOrdersBestFirstAndBreaksTiesByIndex() {
    Labels labels = Labels.parse("a\nb\nc\nd\ne\n");
    List<Prediction> top = Scores.topK(new float[] {0.1f, 0.3f, 0.1f, 0.3f, 0.2f}, 3, labels);
    assertEquals(3, top.size());
    assertEquals(1, top.get(0).index);
    assertEquals("b", top.get(0).label);
    assertEquals(3, top.get(1).index);
    assertEquals(4, top.get(2).index);
    assertEquals(0.2f, top.get(2).score, 0f);
  }

  @Test
  public void topKHandlesShortOutputsAndNaN() {
    List<Prediction> top = Scores.topK(new float[] {Float.NaN, 0.5f}, 3, null);
    assertEquals(2, top.size());
    assertEquals(1, top.get(0).index);
    assertEquals("0", top.get(1).label);
  }

  @Test
  public void topKChecksLabelCount() {
    try {
      Scores.topK(new float[] {1f, 2f}, 1, Labels.parse("only\n"));
      fail();
    } catch (LabelException expected) {
      // labels.txt does not belong to this model
    }
  }

  @Test
  public void requireFiniteRejectsNaNAndInfinity() {
    Scores.requireFinite(new float[] {0f, 1f, -3e38f});
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      try {
        Scores.requireFinite(new float[] {0.5f, bad});
        fail("accepted " + bad);
      } catch (IllegalStateException expected) {
        assertEquals("the model returned " + bad + " for class 1 of 2; its output cannot be"
            + " trusted on this processor", expected.getMessage());
      }
    }
  }
}
