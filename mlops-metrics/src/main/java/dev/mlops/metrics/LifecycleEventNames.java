package dev.mlops.metrics;

import dev.mlops.api.event.LifecycleEvent;
import dev.mlops.api.event.LifecycleEvent.AliasDeleted;
import dev.mlops.api.event.LifecycleEvent.AliasMoved;
import dev.mlops.api.event.LifecycleEvent.ModelLoadFailed;
import dev.mlops.api.event.LifecycleEvent.ModelLoaded;
import dev.mlops.api.event.LifecycleEvent.ModelUnloaded;
import dev.mlops.api.event.LifecycleEvent.SwapRefused;
import dev.mlops.api.event.LifecycleEvent.VersionArchived;
import dev.mlops.api.event.LifecycleEvent.VersionDeleted;
import dev.mlops.api.event.LifecycleEvent.VersionRegistered;
import dev.mlops.api.event.LifecycleEvent.VersionSwapped;
import dev.mlops.api.event.LifecycleEvent.WarmUpFailed;
import java.util.Locale;

/** The lower-case, underscore-separated name of each lifecycle event kind, as used in tags. */
final class LifecycleEventNames {

  private LifecycleEventNames() {}

  static String of(LifecycleEvent event) {
    if (event instanceof VersionRegistered) {
      return "version_registered";
    } else if (event instanceof AliasMoved) {
      return "alias_moved";
    } else if (event instanceof AliasDeleted) {
      return "alias_deleted";
    } else if (event instanceof VersionArchived) {
      return "version_archived";
    } else if (event instanceof VersionDeleted) {
      return "version_deleted";
    } else if (event instanceof ModelLoaded) {
      return "model_loaded";
    } else if (event instanceof ModelLoadFailed) {
      return "model_load_failed";
    } else if (event instanceof VersionSwapped) {
      return "version_swapped";
    } else if (event instanceof ModelUnloaded) {
      return "model_unloaded";
    } else if (event instanceof WarmUpFailed) {
      return "warm_up_failed";
    } else if (event instanceof SwapRefused) {
      return "swap_refused";
    } else if (event instanceof LifecycleEvent.RolloutChanged) {
      return "rollout_changed";
    }
    // LifecycleEvent is sealed; this only runs against a newer API with a kind added.
    return event
        .getClass()
        .getSimpleName()
        .replaceAll("([a-z])([A-Z])", "$1_$2")
        .toLowerCase(Locale.ROOT);
  }
}
