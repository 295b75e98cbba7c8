package dev.mlops.api.spi;

import dev.mlops.api.ArtifactLocation;
import dev.mlops.api.ModelLoadException;

/**
 * An inference engine: turns a verified model artifact into a {@link ModelSession}.
 * Implementations are thread-safe; the runtime owns the engine and closes it last.
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

  /** Releases engine-wide resources. Idempotent. Sessions must be closed first. */
  @Override
  void close();
}
