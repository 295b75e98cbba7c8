package dev.mlops.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One file of a model version's artifact, as recorded at registration.
 *
 * @param path path relative to the version's artifact directory, with {@code /} separators
 * @param size size in bytes
 * @param sha256 lower-case hex SHA-256 of the content
 */
public record ArtifactFile(String path, long size, String sha256) {

  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  /** Validates the fields. */
  public ArtifactFile {
    Objects.requireNonNull(path, "path");
    if (path.isEmpty() || path.startsWith("/") || path.contains("\\")) {
      throw new IllegalArgumentException(
          "artifact path must be relative with '/' separators: " + path);
    }
    for (String part : path.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        throw new IllegalArgumentException(
            "artifact path must not contain '', '.' or '..': " + path);
      }
    }
    if (size < 0) {
      throw new IllegalArgumentException("size must be >= 0: " + size);
    }
    if (!HEX64.matcher(sha256).matches()) {
      throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits: " + sha256);
    }
  }
}
