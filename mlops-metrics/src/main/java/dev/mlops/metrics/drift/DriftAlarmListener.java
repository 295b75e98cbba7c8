package dev.mlops.metrics.drift;

/**
 * Receives {@link DriftAlarm}s from a {@link DriftMonitor}. Called on the thread that ran the
 * evaluation (a prediction thread, the monitor's executor, or the caller of {@link
 * DriftMonitor#evaluate()}), after the evaluation finished; it must be thread-safe and return
 * quickly. What it throws is logged and does not stop other alarms.
 */
@FunctionalInterface
public interface DriftAlarmListener {

  /**
   * Called once per threshold crossing.
   *
   * @param alarm the crossing
   */
  void onAlarm(DriftAlarm alarm);
}
