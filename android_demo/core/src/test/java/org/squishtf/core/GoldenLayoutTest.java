package org.squishtf.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.Test;

/** The golden set as a whole: a float32 and an int8 variant, nothing left of the old flat layout. */
public class GoldenLayoutTest {
  @Test
  public void hasAFloat32AndAnInt8Variant() throws IOException {
    Set<String> precisions = new TreeSet<>();
    for (String name : GoldenVariant.names()) {
      precisions.add(GoldenVariant.load(name).precision());
    }
    assertEquals(Set.of("float32", "int8"), precisions);
  }

  @Test
  public void noFilesOutsideVariantDirectories() throws IOException {
    List<String> loose = new ArrayList<>();
    try (Stream<Path> entries = Files.list(GoldenVariant.root())) {
      entries.filter(Files::isRegularFile).forEach(p -> loose.add(p.getFileName().toString()));
    }
    assertTrue("files of the old flat layout in golden/: " + loose
        + "; golden vectors live in golden/<variant>/", loose.isEmpty());
  }
}
