package org.squishtf.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Class names from labels.txt: one per line, in the model's output order. */
public final class Labels {
  private final List<String> names;

  private Labels(List<String> names) {
    this.names = Collections.unmodifiableList(names);
  }

  /** Parses labels.txt; trailing newlines are fine, blank lines in between are not. */
  public static Labels parse(String text) {
    String[] lines = text.split("\r?\n", -1);
    int end = lines.length;
    while (end > 0 && lines[end - 1].trim().isEmpty()) {
      end--;
    }
    if (end == 0) {
      throw new LabelException("labels.txt is empty; it needs one class name per line");
    }
    List<String> names = new ArrayList<>(end);
    for (int i = 0; i < end; i++) {
      String name = lines[i].trim();
      if (name.isEmpty()) {
        throw new LabelException("labels.txt line " + (i + 1)
            + " is blank; every line must name a class");
      }
      names.add(name);
    }
    return new Labels(names);
  }

  public int size() {
    return names.size();
  }

  public String get(int index) {
    return names.get(index);
  }

  public List<String> asList() {
    return names;
  }

  /** Throws unless the model has exactly one output score per label. */
  public void checkMatches(int modelOutputs) {
    if (modelOutputs != names.size()) {
      throw new LabelException("labels.txt has " + names.size() + " labels but the model outputs "
          + modelOutputs + " scores; copy the labels.txt published with this model");
    }
  }
}
