package dev.mlops.api;

import java.time.Duration;
import java.util.Objects;

/**
 * Whether and how a freshly loaded version is run once before it takes traffic. Set on the runtime
 * ({@code Mlops.builder().warmUp(...)}) and overridable per predictor ({@code
 * newPredictor(...).warmUp(...)}); the runtime's child-JVM validator applies the same rules.
 * Warm-up moves one-time initialisation (memory planning, kernel selection) off the first caller
 * and, with a real input, proves that the version runs.
 *
 * <p>Every such run has a deadline ({@link #DEFAULT_DEADLINE} unless configured: {@code
 * Mlops.builder().warmUpDeadline(...)}, {@code newPredictor(...).warmUpDeadline(...)}, the
 * registry's builder and the child-JVM validator's builder). A run past it is terminated and fails
 * the load with a {@link WarmUpTimeoutException}, whatever the policy: a version that cannot finish
 * one run in that time does not serve.
 */
public enum WarmUpPolicy {
  /**
   * The default. A version registered with an input example is warmed up with it, and its failure
   * is a load failure: the version does not serve. A version without one is run on synthetic inputs
   * (zeros, {@code ""} and {@code false}, every dynamic dimension set to 1), best effort: many
   * valid models refuse such inputs (a shape, a step or a divisor passed as a tensor), so a failure
   * is logged once at WARN, reported as a {@link dev.mlops.api.event.LifecycleEvent.WarmUpFailed}
   * event, and the version serves. A synthetic run that passes its {@linkplain #DEFAULT_DEADLINE
   * deadline} is no such failure: it refuses the version like a failing input example, since a
   * model that cannot finish one run in that time would hold up every caller.
   */
  BEST_EFFORT,
  /**
   * Only versions registered with an input example serve, warmed up with it; a version without one
   * is refused with a {@link dev.mlops.api.ModelLoadException} that says so.
   */
  REQUIRE_INPUT_EXAMPLE,
  /** No warm-up run: the version serves once loaded, and its first call pays for initialisation. */
  NONE;

  /**
   * How long one warm-up run, or any other run the library starts while it loads or checks a
   * version, may take unless configured otherwise: 30 seconds. Long enough for a large model's
   * first run on a loaded machine, short enough that a model built to run for ever (a {@code Loop}
   * with a huge trip count) is refused before anyone waits on it for long.
   */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

  /**
   * Checks a warm-up deadline given to a builder.
   *
   * @param option the builder option, for the message
   * @return {@code deadline}
   * @throws IllegalArgumentException if it is zero or negative
   */
  public static Duration checkDeadline(String option, Duration deadline) {
    Objects.requireNonNull(deadline, option);
    if (deadline.isZero() || deadline.isNegative()) {
      throw new IllegalArgumentException(option + " must be positive but was " + deadline);
    }
    return deadline;
  }
}
