package dev.mlops.runtime.registry;

import dev.mlops.api.spi.InferenceEngine;
import java.net.URI;
import java.time.Clock;

/**
 * Opens a registry for a URI scheme: {@code file:} for the embedded directory registry (in
 * mlops-runtime), {@code postgresql:} for the fleet registry (in mlops-registry-postgres).
 * Providers are found with {@link java.util.ServiceLoader}; {@code Mlops.builder().registry(URI)}
 * picks the one whose {@link #scheme()} matches. A registry can always be built by hand instead.
 */
public interface RegistryProvider {

  /** The URI scheme this provider opens, lower case, e.g. {@code file}. */
  String scheme();

  /**
   * Opens the registry a URI names.
   *
   * @param uri a URI of this provider's scheme
   * @param engine the engine the registry reads model signatures with
   * @param clock the clock for its timestamps
   * @throws IllegalArgumentException if the URI is malformed for this scheme, naming what is
   *     expected
   */
  GovernedRegistry open(URI uri, InferenceEngine engine, Clock clock);

  /**
   * Opens a registry by URI with the provider found for its scheme.
   *
   * @throws IllegalArgumentException if no provider on the class path opens the scheme, naming the
   *     schemes that are available
   */
  static GovernedRegistry openUri(URI uri, InferenceEngine engine, Clock clock) {
    java.util.Objects.requireNonNull(uri, "uri");
    String scheme =
        uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    java.util.List<String> known = new java.util.ArrayList<>();
    for (RegistryProvider p : java.util.ServiceLoader.load(RegistryProvider.class)) {
      if (p.scheme().equals(scheme)) {
        return p.open(uri, engine, clock);
      }
      known.add(p.scheme() + ":");
    }
    throw new IllegalArgumentException(
        "no registry provider for '"
            + uri
            + "': expected a URI with one of the schemes "
            + known
            + " (add the module that provides another, e.g. mlops-registry-postgres for postgresql:)");
  }
}
