package org.squishtf.core;

import java.util.ArrayList;
import java.util.List;

/** Model output to probabilities, and the top-k classes. */
public final class Scores {
  private Scores() {}

  /** The output as probabilities: a softmax when the contract says the model emits logits. */
  public static float[] probabilities(float[] raw, Contract.Output output) {
    return output == Contract.Output.LOGITS ? softmax(raw) : raw.clone();
  }

  /**
   * Throws unless every score is finite. A GPU computing in half precision can overflow and
   * return NaN or infinity without any error; the first run checks this, so that counts as the
   * GPU failing and the CPU takes over.
   */
  public static void requireFinite(float[] scores) {
    for (int i = 0; i < scores.length; i++) {
      if (Float.isNaN(scores[i]) || Float.isInfinite(scores[i])) {
        throw new IllegalStateException("the model returned " + scores[i] + " for class " + i
            + " of " + scores.length + "; its output cannot be trusted on this processor");
      }
    }
  }

  /** Numerically stable softmax (subtracts the maximum first). */
  public static float[] softmax(float[] logits) {
    if (logits.length == 0) {
      throw new IllegalArgumentException("softmax of an empty vector");
    }
    float max = Float.NEGATIVE_INFINITY;
    for (float v : logits) {
      max = Math.max(max, v);
    }
    double sum = 0;
    double[] e = new double[logits.length];
    for (int i = 0; i < logits.length; i++) {
      e[i] = Math.exp((double) logits[i] - max);
      sum += e[i];
    }
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) {
      out[i] = (float) (e[i] / sum);
    }
    return out;
  }

  /**
   * The k highest scores, best first; equal scores keep the lower index first (as a stable
   * descending sort does). NaN scores rank last.
   */
  public static List<Prediction> topK(float[] scores, int k, Labels labels) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
    if (labels != null) {
      labels.checkMatches(scores.length);
    }
    int n = Math.min(k, scores.length);
    int[] best = new int[n];
    int filled = 0;
    for (int i = 0; i < scores.length; i++) {
      // insertion into a short sorted list: k is 3 here, outputs are tens to a thousand
      int pos = filled;
      while (pos > 0 && better(scores, i, best[pos - 1])) {
        pos--;
      }
      if (pos >= n) {
        continue;
      }
      int last = Math.min(filled, n - 1);
      System.arraycopy(best, pos, best, pos + 1, last - pos);
      best[pos] = i;
      filled = Math.min(filled + 1, n);
    }
    List<Prediction> out = new ArrayList<>(n);
    for (int j = 0; j < n; j++) {
      int i = best[j];
      out.add(new Prediction(i, labels == null ? String.valueOf(i) : labels.get(i), scores[i]));
    }
    return out;
  }

  /** Whether index a ranks strictly before index b (a > b only when it scores higher). */
  private static boolean better(float[] s, int a, int b) {
    if (Float.isNaN(s[b])) {
      return !Float.isNaN(s[a]) || a < b;
    }
    return !Float.isNaN(s[a]) && s[a] > s[b];
  }
}
