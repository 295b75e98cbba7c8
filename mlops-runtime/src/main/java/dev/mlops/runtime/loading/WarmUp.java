package dev.mlops.runtime.loading;

import dev.mlops.api.ClosedException;
import dev.mlops.api.ModelLoadException;
import dev.mlops.api.PredictionTimeoutException;
import dev.mlops.api.Tensor;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.WarmUpPolicy;
import dev.mlops.api.WarmUpTimeoutException;
import dev.mlops.api.spi.ModelSession;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Runs a freshly opened session once before it takes traffic, as a {@link WarmUpPolicy} says: on
 * the version's input example (a failure is a load failure) or, without one, on synthetic inputs
 * built from its signature (a failure is only reported). Every run has a deadline, given to the
 * engine as the run's time limit (ONNX Runtime terminates the run when it passes); a run past it
 * fails the load with a {@link WarmUpTimeoutException} under every policy. Stateless.
 */
public final class WarmUp {

  private WarmUp() {}

  /**
   * Warms a session up as {@code policy} says.
   *
   * @param session a freshly opened session
   * @param inputExample the version's input example, if it has one
   * @param policy what to run
   * @param deadline how long the run may take
   * @param what how to name the model in messages, e.g. {@code models:/vad/1}
   * @param setting the option that sets {@code deadline}, named in a timeout's message
   * @return the failure of a best-effort run on synthetic inputs, which the caller reports; empty
   *     when the warm-up ran cleanly or did not run
   * @throws ModelLoadException if the input example fails, or the policy requires one and there is
   *     none
   * @throws WarmUpTimeoutException if the run passed its deadline
   */
  public static Optional<ModelLoadException> run(
      ModelSession session,
      Optional<Map<String, Tensor>> inputExample,
      WarmUpPolicy policy,
      Duration deadline,
      String what,
      String setting) {
    Objects.requireNonNull(policy, "policy");
    if (policy == WarmUpPolicy.NONE) {
      return Optional.empty();
    }
    if (inputExample.isPresent()) {
      runExample(session, inputExample.get(), deadline, what, setting);
      return Optional.empty();
    }
    if (policy == WarmUpPolicy.REQUIRE_INPUT_EXAMPLE) {
      throw missingExample(what);
    }
    return trySynthetic(session, deadline, what, setting);
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
   * Runs the input example within {@code deadline}; its failure means the version cannot serve the
   * inputs it was registered with.
   *
   * @param setting the option that sets {@code deadline}, named in a timeout's message
   * @throws WarmUpTimeoutException if the run passed its deadline
   * @throws ModelLoadException naming the model and what failed
   */
  public static void runExample(
      ModelSession session,
      Map<String, Tensor> example,
      Duration deadline,
      String what,
      String setting) {
    try {
      InputValidator.check(session.signature(), example);
      runWithin(session, example, deadline);
    } catch (PredictionTimeoutException e) {
      throw timedOut(what, "with its input example", deadline, setting, e);
    } catch (ClosedException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ModelLoadException(
          "warm-up of " + what + " with its input example failed: " + e.getMessage(), e);
    }
  }

  /**
   * Runs synthetic inputs once within {@code deadline}.
   *
   * @return the failure, naming the inputs used and how to warm up with real ones; empty if it ran
   * @throws WarmUpTimeoutException if the run passed its deadline: unlike a refused input, that is
   *     not something a valid model does on synthetic inputs
   */
  static Optional<ModelLoadException> trySynthetic(
      ModelSession session, Duration deadline, String what, String setting) {
    try {
      Map<String, Tensor> inputs = SyntheticInputs.of(session.signature());
      InputValidator.check(session.signature(), inputs);
      runWithin(session, inputs, deadline);
      return Optional.empty();
    } catch (PredictionTimeoutException e) {
      throw timedOut(
          what, "on " + SyntheticInputs.describe(session.signature()), deadline, setting, e);
    } catch (ClosedException e) {
      throw e;
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

  /** One run of every output, with the deadline and the engine's default output cap. */
  private static Map<String, Tensor> runWithin(
      ModelSession session, Map<String, Tensor> inputs, Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    Set<String> outputs = new LinkedHashSet<>();
    for (TensorSpec spec : session.signature().outputs()) {
      outputs.add(spec.name());
    }
    return session.run(inputs, outputs, deadline, ModelSession.DEFAULT_MAX_OUTPUT_BYTES);
  }

  private static WarmUpTimeoutException timedOut(
      String what, String on, Duration deadline, String setting, PredictionTimeoutException e) {
    return new WarmUpTimeoutException(
        "warm-up of "
            + what
            + " "
            + on
            + " did not finish within its deadline of "
            + deadline
            + "; ONNX Runtime terminated the run and the version is refused. If the model is"
            + " meant to run this long, raise the deadline with "
            + setting,
        deadline,
        e);
  }
}
