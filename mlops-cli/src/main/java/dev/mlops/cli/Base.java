package dev.mlops.cli;

import dev.mlops.api.AuditInfo;
import dev.mlops.api.ModelRef;
import dev.mlops.runtime.onnx.OnnxRuntimeEngine;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** What every command shares: the registry it opens, the audit identity, the output streams. */
@picocli.CommandLine.Command
abstract class Base implements Callable<Integer> {

  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

  @Spec CommandSpec spec;

  /** The engine the registry was opened with; set while {@link #run} runs. */
  dev.mlops.api.spi.InferenceEngine engine;

  /** Runs the command on the open registry; returns the exit code. */
  abstract int run(GovernedRegistry registry) throws Exception;

  /** A fresh artifact cache for this invocation of a postgresql: registry, removed at exit. */
  private Path cache;

  @Override
  public Integer call() throws Exception {
    URI uri = registryUri();
    try {
      return call(uri);
    } finally {
      if (cache != null) {
        try (var walk = java.nio.file.Files.walk(cache)) {
          walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
    }
  }

  private Integer call(URI uri) throws Exception {
    try (OnnxRuntimeEngine onnx = OnnxRuntimeEngine.builder().build();
        GovernedRegistry registry = RegistryProvider.openUri(uri, onnx, Clock.systemUTC())) {
      engine = onnx;
      int code = run(registry);
      out().flush();
      return code;
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  private Object global(String name) {
    var option = spec.findOption(name);
    return option == null ? null : option.getValue();
  }

  /**
   * The registry URI: {@code --registry} or {@code MLOPS_REGISTRY}; a plain path is a directory. A
   * {@code postgresql:} URI without {@code listen=} opens no listening connection, as a command
   * changes the registry and exits; without {@code cache=} it fetches artifacts into a fresh
   * directory, so that what it checks and loads are the bytes the database holds now.
   */
  URI registryUri() throws java.io.IOException {
    String value = (String) global("--registry");
    if (value == null || value.isBlank()) {
      value = System.getenv("MLOPS_REGISTRY");
    }
    if (value == null || value.isBlank()) {
      throw new ParameterException(
          spec.commandLine(),
          "expected the registry as --registry URI or in MLOPS_REGISTRY, but found neither");
    }
    URI uri;
    if (SCHEME.matcher(value).matches()) {
      try {
        uri = URI.create(value);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(
            spec.commandLine(), "--registry: expected a URI but found '" + value + "'", e);
      }
    } else {
      uri = Path.of(value).toAbsolutePath().normalize().toUri();
    }
    if ("postgresql".equals(String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT))) {
      String q = uri.getRawQuery();
      if (q == null || !("&" + q).contains("&listen=")) {
        uri = URI.create(uri + (q == null ? "?" : "&") + "listen=false");
        q = uri.getRawQuery();
      }
      if (!("&" + q).contains("&cache=")) {
        cache = java.nio.file.Files.createTempDirectory("mlops-cli-cache-");
        uri =
            URI.create(
                uri
                    + "&cache="
                    + java.net.URLEncoder.encode(
                        cache.toString(), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return uri;
  }

  /** Who the audit log records: {@code --actor}, {@code MLOPS_ACTOR} or the user name. */
  String actor() {
    String a = (String) global("--actor");
    if (a == null || a.isBlank()) {
      a = System.getenv("MLOPS_ACTOR");
    }
    if (a == null || a.isBlank()) {
      a = System.getProperty("user.name", "cli");
    }
    return a;
  }

  /** Parses a model reference: {@code models:/m/3}, {@code m/3}, {@code m@alias}, {@code m}. */
  static ModelRef ref(String text) {
    return ModelRef.parse(text.startsWith("models:/") ? text : "models:/" + text);
  }

  /** Fails unless the registry has this model, naming the ones it has. */
  static void requireModel(GovernedRegistry registry, String model) {
    java.util.List<String> models = registry.models();
    if (!models.contains(model)) {
      throw new CliException(
          "expected a model named '" + model + "' but the registry has " + models);
    }
  }

  /** A reason option for commands that change the registry. */
  static final class Reason {
    @Option(
        names = {"-m", "--reason"},
        paramLabel = "TEXT",
        description = "Why, recorded in the audit log.")
    String reason = "";
  }

  AuditInfo audit(Reason r) {
    return AuditInfo.by(actor(), r == null ? "" : r.reason);
  }
}
