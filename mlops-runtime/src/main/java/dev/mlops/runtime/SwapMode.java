package dev.mlops.runtime;

/** How a predictor that follows an alias or {@code latest} moves to a new version. */
public enum SwapMode {
  /**
   * The default. Load, verify and warm up the new version while the old one keeps serving, then
   * switch with one atomic write; calls already running finish on the old version, which closes
   * when the last of them returns. Needs memory for two versions during the swap.
   */
  AVAILABILITY_PRESERVING,

  /**
   * For models too large for two copies in memory: stop taking calls on the old version, let the
   * calls in flight finish, unload it, then load the new one. Calls arriving in the gap wait up to
   * the predictor's swap-gap timeout and then fail with {@link
   * dev.mlops.api.PredictionTimeoutException}. If the new version cannot load, the old one is
   * loaded again.
   */
  RESOURCE_PRESERVING
}
