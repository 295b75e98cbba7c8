package dev.mlops.runtime.registry;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelVersion;

/**
 * A version's files as {@link GovernedRegistry#verifiedArtifact} checked them: a private copy,
 * written while its bytes were hashed, in a directory only this process's user can write. An engine
 * loads from {@link #location()}; the bytes it reads are the bytes that were verified, and no later
 * write to the stored files (or to this copy, once closed: the files are gone, and a session that
 * maps them keeps what it mapped) changes the session. Close it as soon as the session is open.
 */
public final class VerifiedArtifact implements AutoCloseable {

  private final ModelVersion version;
  private final ArtifactLocation location;
  private final Staging.Entry copy;

  VerifiedArtifact(ModelVersion version, ArtifactLocation location, Staging.Entry copy) {
    this.version = version;
    this.location = location;
    this.copy = copy;
  }

  /** The version. */
  public ModelVersion version() {
    return version;
  }

  /** Where the checked copy lies: the directory of the files and the model file in it. */
  public ArtifactLocation location() {
    return location;
  }

  /** Deletes the copy. Idempotent. */
  @Override
  public void close() {
    copy.close();
  }

  @Override
  public String toString() {
    return "VerifiedArtifact[" + version.ref() + " at " + location.directory() + "]";
  }
}
