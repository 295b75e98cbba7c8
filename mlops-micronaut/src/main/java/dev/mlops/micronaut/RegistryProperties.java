package dev.mlops.micronaut;

import io.micronaut.context.annotation.ConfigurationProperties;
import java.util.Optional;

/**
 * The registry's properties, under {@code mlops.registry}.
 *
 * <ul>
 *   <li>{@code url}: a directory ({@code /var/lib/models} or {@code file:/var/lib/models}) for the
 *       embedded registry; a {@code postgresql://host:port/db?user=...} URI for a fleet registry
 *       with a pool of its own; or {@code postgresql:} alone for a fleet registry on the
 *       application's {@code DataSource} bean ({@code mlops-registry-postgres} on the class path).
 *   <li>{@code cache}: with {@code postgresql:}, the directory where artifacts fetched from the
 *       database are cached (default: one under the temporary directory).
 *   <li>{@code listen}: with {@code postgresql:}, whether to follow changes made elsewhere (default
 *       true; false for a process that only writes).
 * </ul>
 *
 * <p>Not thread-safe: Micronaut fills it once at startup.
 */
@ConfigurationProperties("mlops.registry")
public class RegistryProperties {

  private String url;
  private String cache;
  private boolean listen = true;

  /** Where the registry is. */
  public void setUrl(String url) {
    this.url = url;
  }

  /** The local artifact cache of a {@code postgresql:} registry. */
  public void setCache(String cache) {
    this.cache = cache;
  }

  /** Whether a {@code postgresql:} registry follows changes made elsewhere. */
  public void setListen(boolean listen) {
    this.listen = listen;
  }

  Optional<String> url() {
    return Optional.ofNullable(url).map(String::trim).filter(s -> !s.isEmpty());
  }

  Optional<String> cache() {
    return Optional.ofNullable(cache).filter(s -> !s.isBlank());
  }

  boolean listen() {
    return listen;
  }
}
