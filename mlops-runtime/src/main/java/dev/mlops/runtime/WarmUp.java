package dev.mlops.runtime;

import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Tensor;
import dev.mlops.api.spi.ModelSession;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a freshly opened session once before it takes traffic, on the version's input example
 * or, without one, on synthetic inputs built from its signature. Proves the model runs and moves
 * one-time initialisation off the first caller.
 */
public final class WarmUp {

  private WarmUp() {}

  /**
   * Runs the session once.
   *
   * @param session a freshly opened session
   * @param inputExample the version's input example, if it has one
   * @param what how to name the model in an error message
   * @throws ModelLoadException if the run fails
   */
  public static void run(ModelSession session, Optional<Map<String, Tensor>> inputExample, String what) {
    Map<String, Tensor> inputs = inputExample.orElseGet(() -> SyntheticInputs.of(session.signature()));
    try {
      InputValidator.check(session.signature(), inputs);
      session.run(inputs);
    } catch (RuntimeException e) {
      throw new ModelLoadException("warm-up of " + what + " failed: " + e.getMessage(), e);
    }
  }
}
