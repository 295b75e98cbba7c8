package dev.mlops.api;

/**
 * Whether and how a freshly loaded version is run once before it takes traffic. Set on the runtime
 * ({@code Mlops.builder().warmUp(...)}) and overridable per predictor ({@code
 * newPredictor(...).warmUp(...)}); the runtime's child-JVM validator applies the same rules.
 * Warm-up moves one-time initialisation (memory planning, kernel selection) off the first caller
 * and, with a real input, proves that the version runs.
 */
public enum WarmUpPolicy {
  /**
   * The default. A version registered with an input example is warmed up with it, and its failure
   * is a load failure: the version does not serve. A version without one is run on synthetic inputs
   * (zeros, {@code ""} and {@code false}, every dynamic dimension set to 1), best effort: many
   * valid models refuse such inputs (a shape, a step or a divisor passed as a tensor), so a failure
   * is logged once at WARN, reported as a {@link dev.mlops.api.event.LifecycleEvent.WarmUpFailed}
   * event, and the version serves.
   */
  BEST_EFFORT,
  /**
   * Only versions registered with an input example serve, warmed up with it; a version without one
   * is refused with a {@link dev.mlops.api.ModelLoadException} that says so.
   */
  REQUIRE_INPUT_EXAMPLE,
  /** No warm-up run: the version serves once loaded, and its first call pays for initialisation. */
  NONE
}
