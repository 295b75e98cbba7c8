package dev.mlops.runtime.loading;

import dev.mlops.api.ModelLoadException;
import dev.mlops.api.Tensor;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.spi.ModelSession;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Runs a freshly opened session once before it takes traffic, as a {@link WarmUpPolicy} says: on
 * the version's input example (a failure is a load failure) or, without one, on synthetic inputs
 * built from its signature (a failure is only reported). Stateless.
 */
public final class WarmUp {

  private WarmUp() {}

  /**
   * Warms a session up as {@code policy} says.
   *
   * @param session a freshly opened session
   * @param inputExample the version's input example, if it has one
   * @param policy what to run
   * @param what how to name the model in messages, e.g. {@code models:/vad/1}
   * @return the failure of a best-effort run on synthetic inputs, which the caller reports; empty
   *     when the warm-up ran cleanly or did not run
   * @throws ModelLoadException if the input example fails, or the policy requires one and there is
   *     none
   */
  public static Optional<ModelLoadException> run(
      ModelSession session,
      Optional<Map<String, Tensor>> inputExample,
      WarmUpPolicy policy,
      String what) {
    Objects.requireNonNull(policy, "policy");
    if (policy == WarmUpPolicy.NONE) {
      return Optional.empty();
    }
    if (inputExample.isPresent()) {
      runExample(session, inputExample.get(), what);
      return Optional.empty();
    }
    if (policy == WarmUpPolicy.REQUIRE_INPUT_EXAMPLE) {
      throw missingExample(what);
    }
    return trySynthetic(session, what);
  }

  /**
   * The refusal of a version without an input example under {@link
   * WarmUpPolicy#REQUIRE_INPUT_EXAMPLE}.
   */
  public static ModelLoadException missingExample(String what) {
    return new ModelLoadException(
        what
            + " has no input example, but the warm-up policy REQUIRE_INPUT_EXAMPLE needs"
            + " one; register the version with Registration.Builder.inputExample(...) or use WarmUpPolicy.BEST_EFFORT");
  }

  /**
   * Runs the input example; its failure means the version cannot serve the inputs it was registered
   * with.
   *
   * @throws ModelLoadException naming the model and what failed
   */
  public static void runExample(ModelSession session, Map<String, Tensor> example, String what) {
    try {
      InputValidator.check(session.signature(), example);
      session.run(example);
    } catch (RuntimeException e) {
      throw new ModelLoadException(
          "warm-up of " + what + " with its input example failed: " + e.getMessage(), e);
    }
  }

  /**
   * Runs synthetic inputs once.
   *
   * @return the failure, naming the inputs used and how to warm up with real ones; empty if it ran
   */
  static Optional<ModelLoadException> trySynthetic(ModelSession session, String what) {
    try {
      Map<String, Tensor> inputs = SyntheticInputs.of(session.signature());
      InputValidator.check(session.signature(), inputs);
      session.run(inputs);
      return Optional.empty();
    } catch (RuntimeException e) {
      return Optional.of(
          new ModelLoadException(
              "warm-up of "
                  + what
                  + " on "
                  + SyntheticInputs.describe(session.signature())
                  + " failed: "
                  + e.getMessage()
                  + "; it serves anyway"
                  + " (such inputs are not valid for every model). To warm it up with real inputs, register the version"
                  + " with Registration.Builder.inputExample(...)",
              e));
    }
  }
}
