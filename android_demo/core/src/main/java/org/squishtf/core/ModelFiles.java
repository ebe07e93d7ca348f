package org.squishtf.core;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks that a bundled model file is the one models.json describes (size, then SHA-256), so a
 * truncated or swapped file is reported as such instead of failing somewhere inside LiteRT.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** Throws a {@link ModelFileException} naming {@code path} unless {@code data} matches. */
  public static void verify(String path, byte[] data, ModelFile expected)
      throws ModelFileException {
    if (data.length != expected.bytes) {
      throw new ModelFileException(path, "is " + data.length + " bytes but models.json says "
          + expected.bytes + " (truncated or replaced)");
    }
    String sha = sha256(data);
    if (!sha.equals(expected.sha256)) {
      throw new ModelFileException(path, "has SHA-256 " + sha.substring(0, 12) + "\u2026 but"
          + " models.json says " + expected.sha256.substring(0, 12) + "\u2026 (corrupt or"
          + " replaced)");
    }
  }

  /** Lower-case hex SHA-256. */
  public static String sha256(byte[] data) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
    StringBuilder sb = new StringBuilder(64);
    for (byte b : md.digest(data)) {
      sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
    }
    return sb.toString();
  }
}
