package dev.mlops.api;

import java.util.Objects;
import java.util.Optional;
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

  /**
   * Why {@code path} cannot name an artifact file on every platform, or empty when it can. A path
   * is refused when one of its {@code /}-separated segments is a device name that Windows reserves
   * ({@code CON}, {@code PRN}, {@code AUX}, {@code NUL}, {@code CONIN$}, {@code CONOUT$}, {@code
   * COM0}-{@code COM9}, {@code LPT0}-{@code LPT9}, and {@code COM} or {@code LPT} with {@code ¹},
   * {@code ²} or {@code ³}), in any case and with any extension ({@code NUL.bin}, {@code
   * com1.onnx}), or ends in {@code .} or a space, which Windows drops ({@code weights.} would be
   * {@code weights}). The registry refuses such files when it registers an artifact, and refuses to
   * load a stored version that holds one.
   *
   * <p>Not checked by the constructor, so that metadata stored before the rule can still be read
   * and the refusal comes, typed, when the version is verified.
   *
   * @return a sentence naming the segment, what it is and what is expected
   */
  public static Optional<String> unportableReason(String path) {
    Objects.requireNonNull(path, "path");
    for (String part : path.split("/", -1)) {
      String problem = PortableNames.problem(part);
      if (problem != null) {
        return Optional.of(
            (path.equals(part)
                    ? "the file name '" + path + "'"
                    : "the segment '" + part + "' of the file path '" + path + "'")
                + " is not portable: "
                + problem
                + "; expected "
                + PortableNames.RULE);
      }
    }
    return Optional.empty();
  }
}
