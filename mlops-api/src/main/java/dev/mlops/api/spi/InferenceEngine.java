package dev.mlops.api.spi;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;

/**
 * An inference engine: turns a verified model artifact into a {@link ModelSession}. Implementations
 * are thread-safe; the runtime owns the engine and closes it last.
 */
public interface InferenceEngine extends AutoCloseable {

  /** Short name, e.g. {@code onnxruntime}. */
  String name();

  /**
   * Opens a session on a verified artifact.
   *
   * @throws ModelLoadException if the model cannot be parsed or initialised
   */
  ModelSession open(ArtifactLocation artifact);

  /**
   * Opens a session on a verified artifact with these options. The default ignores the options and
   * calls {@link #open(ArtifactLocation)}; an engine that has such settings overrides it.
   *
   * @throws ModelLoadException if the model cannot be parsed or initialised
   */
  default ModelSession open(ArtifactLocation artifact, dev.mlops.api.SessionOptions options) {
    return open(artifact);
  }

  /** Releases engine-wide resources. Idempotent. Sessions must be closed first. */
  @Override
  void close();
}
