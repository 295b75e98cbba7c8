package dev.mlops.runtime.testing;

import dev.mlops.api.ModelVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.VerifiedArtifact;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a registry keeps a version's files, for tests that change them, and what verification
 * gives.
 */
public final class Stored {

  private Stored() {}

  /** The directory of a version's stored files (shared by versions with identical files). */
  public static Path directory(GovernedRegistry registry, ModelVersion v) {
    return registry.artifacts().materialize(v.digest(), v.files());
  }

  /** The stored model file of a version. */
  public static Path modelFile(GovernedRegistry registry, ModelVersion v) {
    return directory(registry, v).resolve(v.modelFile());
  }

  /**
   * The bytes of the model file as verification hands them to an engine (the copy is then deleted).
   */
  public static byte[] verifiedModelBytes(GovernedRegistry registry, ModelVersion v) {
    try (VerifiedArtifact a = registry.verifiedArtifact(v)) {
      return Files.readAllBytes(a.location().modelFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the verified copy holds this file, relative to the artifact. */
  public static boolean verifiedCopyHolds(GovernedRegistry registry, ModelVersion v, String path) {
    try (VerifiedArtifact a = registry.verifiedArtifact(v)) {
      return Files.isRegularFile(a.location().directory().resolve(path));
    }
  }
}
