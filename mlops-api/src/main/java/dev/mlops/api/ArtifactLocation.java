package dev.mlops.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Local files of a model artifact whose content has been checked against the digests recorded for
 * it. An engine loads only from such a location.
 *
 * @param directory the directory holding every artifact file
 * @param modelFile the main model file, inside {@code directory}
 */
public record ArtifactLocation(Path directory, Path modelFile) {
  /** Validates that the model file lies inside the directory. */
  public ArtifactLocation {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(modelFile, "modelFile");
    if (!modelFile.normalize().startsWith(directory.normalize())) {
      throw new IllegalArgumentException("model file " + modelFile + " is outside " + directory);
    }
  }
}
