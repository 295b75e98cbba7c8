package dev.mlops.runtime.local;

import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;

/**
 * Opens {@code file:} URIs ({@code file:/var/lib/models}, {@code file:models} for a path relative
 * to the working directory) as the embedded {@link LocalModelRegistry}. Found by {@link
 * java.util.ServiceLoader}.
 */
public final class FileRegistryProvider implements RegistryProvider {

  /** For {@link java.util.ServiceLoader}. */
  public FileRegistryProvider() {}

  @Override
  public String scheme() {
    return "file";
  }

  @Override
  public GovernedRegistry open(URI uri, InferenceEngine engine, Clock clock) {
    if (!"file".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("expected a file: URI but got " + uri);
    }
    Path dir;
    if (uri.isOpaque()) {
      String part = uri.getSchemeSpecificPart();
      if (part == null || part.isEmpty()) {
        throw new IllegalArgumentException(
            "the file: URI "
                + uri
                + " names no directory; expected file:/absolute/dir"
                + " or file:relative/dir");
      }
      dir = Path.of(part);
    } else {
      if (uri.getAuthority() != null
          && !uri.getAuthority().isEmpty()
          && !uri.getAuthority().equals("localhost")) {
        throw new IllegalArgumentException(
            "the file: URI "
                + uri
                + " names the host '"
                + uri.getAuthority()
                + "'; a registry directory must be local: file:/absolute/dir or file:relative/dir");
      }
      dir = Path.of(uri.getPath());
    }
    return LocalModelRegistry.builder(dir).engine(engine).clock(clock).build();
  }
}
