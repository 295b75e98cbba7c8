package dev.mlops.api.event;

/**
 * Receives lifecycle events. Called synchronously on the thread that made the change, after the
 * change is durable; must return quickly and must not call back into the registry's write methods.
 * An exception thrown by a listener is logged and does not undo the change.
 */
@FunctionalInterface
public interface LifecycleListener {
  /** Called once per event. */
  void onEvent(LifecycleEvent event);
}
