package dev.mlops.registry.postgres;

import dev.mlops.api.RegistryException;
import dev.mlops.api.spi.ArtifactStore;
import dev.mlops.api.spi.InferenceEngine;
import dev.mlops.api.spi.ModelStore;
import dev.mlops.runtime.registry.GovernedRegistry;
import dev.mlops.runtime.registry.RegistryProvider;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Opens {@code postgresql:} URIs as a fleet registry: metadata in PostgreSQL, artifacts in the same
 * database or in S3-compatible object storage. Found by {@link java.util.ServiceLoader}, so a fleet
 * needs only the URI:
 *
 * <pre>{@code
 * Mlops mlops = Mlops.builder()
 *     .registry(URI.create("postgresql://db.internal:5432/models?user=mlops_reader&password=..."))
 *     .build();
 * }</pre>
 *
 * <p>The URI is a pgjdbc URL without its {@code jdbc:} prefix: host, port, database, and any pgjdbc
 * parameter ({@code user}, {@code password}, {@code ssl}, {@code sslmode}, ...). These parameters
 * are the provider's own and are not passed to pgjdbc:
 *
 * <ul>
 *   <li>{@code artifacts}: {@code postgresql} (default: chunked in the same database) or {@code
 *       s3://bucket/prefix}, which needs the AWS SDK v2 {@code s3} module on the class path;
 *       credentials and region come from the SDK's default chains (environment, system properties,
 *       profile, instance role);
 *   <li>{@code s3.endpoint}: an S3-compatible endpoint (MinIO, Ceph, s3proxy); it implies
 *       path-style access and checksums only where the S3 API requires them;
 *   <li>{@code s3.region}: the bucket's region when the default chain has none;
 *   <li>{@code cache}: the local cache directory of downloaded artifacts (default: {@code
 *       mlops-<user>/artifact-cache} in the system's temporary directory);
 *   <li>{@code listen}: {@code false} for a process that changes the registry and exits (a CLI, a
 *       CI job), which then opens no listening connection; default {@code true};
 *   <li>{@code listener}: {@code host:port} of the server for the listening connection, when the
 *       URI's goes through a pooler in transaction mode (PgBouncer), where LISTEN does not work;
 *   <li>{@code heartbeat} and {@code heartbeatTimeout}: how long the channel may be quiet before
 *       the listener checks its connection, and how long that check may take, as {@code 500ms},
 *       {@code 5s}, {@code 1m} or ISO-8601 ({@code PT5S}); defaults 5 s and 2 s (whole seconds).
 * </ul>
 *
 * <p>Connections come from a small HikariCP pool of its own (at most 4), closed with the registry;
 * the registry reads the database on loads, alias moves and registrations, never per prediction.
 * The listener has one more connection, outside the pool. An application with its own pool builds
 * {@link PostgresModelStore} and the artifact store on its {@code DataSource} instead.
 */
public final class PostgresRegistryProvider implements RegistryProvider {

  /** The parameters this provider reads itself. */
  static final Set<String> OWN =
      Set.of(
          "artifacts",
          "cache",
          "listen",
          "listener",
          "heartbeat",
          "heartbeatTimeout",
          "s3.endpoint",
          "s3.region");

  /** For {@link java.util.ServiceLoader}. */
  public PostgresRegistryProvider() {}

  @Override
  public String scheme() {
    return "postgresql";
  }

  @Override
  public GovernedRegistry open(URI uri, InferenceEngine engine, Clock clock) {
    Parsed p = parse(uri);
    // A small pool: a new physical connection costs a server process per borrow, and an
    // instance borrows a few on every change it follows.
    com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
    config.setJdbcUrl(p.jdbcUrl());
    config.setPoolName("mlops-registry");
    config.setMaximumPoolSize(4);
    config.setMinimumIdle(1);
    config.setInitializationFailTimeout(-1); // the store's first use reports an unreachable server
    config.addDataSourceProperty("ApplicationName", "mlops-registry");
    com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource(config);
    Path cache = p.cache();
    String artifacts = p.own().getOrDefault("artifacts", "postgresql");
    boolean listen = !"false".equals(p.own().getOrDefault("listen", "true"));
    java.util.function.Supplier<ModelStore> models =
        () -> {
          PostgresModelStore.Builder b =
              PostgresModelStore.builder(ds).listen(listen).clock(clock).closing(ds);
          // The listener keeps one connection of its own, outside the pool.
          PGSimpleDataSource l = new PGSimpleDataSource();
          l.setURL(p.listenerUrl() != null ? p.listenerUrl() : p.jdbcUrl());
          b.listenerDataSource(l);
          if (p.own().containsKey("heartbeat")) {
            b.heartbeat(duration("heartbeat", p.own().get("heartbeat")));
          }
          if (p.own().containsKey("heartbeatTimeout")) {
            b.heartbeatTimeout(duration("heartbeatTimeout", p.own().get("heartbeatTimeout")));
          }
          return b.build();
        };
    return GovernedRegistry.builder(
            models,
            store ->
                openArtifacts(
                    artifacts, ds, CacheSlots.claim(cache, p.own().containsKey("cache")), p.own()),
            p.description())
        .engine(engine)
        .clock(clock)
        .build();
  }

  private static ArtifactStore openArtifacts(
      String artifacts, javax.sql.DataSource ds, Path cache, Map<String, String> own) {
    if (artifacts.equals("postgresql")) {
      return PostgresArtifactStore.builder(ds).cache(cache).build();
    }
    URI s3 = URI.create(artifacts);
    try {
      Class.forName("software.amazon.awssdk.services.s3.S3Client");
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException(
          "artifacts="
              + artifacts
              + " needs the AWS SDK v2 S3 client on the class path: add"
              + " software.amazon.awssdk:s3 to the application's dependencies",
          e);
    }
    return S3Artifacts.open(s3, own.get("s3.endpoint"), own.get("s3.region"), cache);
  }

  /** A parsed URI: the JDBC URL for pgjdbc and the provider's own parameters. */
  record Parsed(
      String jdbcUrl,
      String listenerUrl,
      Map<String, String> own,
      Path cache,
      String description) {}

  /** Parses {@code 500ms}, {@code 5s}, {@code 2m} or ISO-8601. */
  static java.time.Duration duration(String key, String value) {
    try {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m)").matcher(value);
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
          case "ms" -> java.time.Duration.ofMillis(n);
          case "s" -> java.time.Duration.ofSeconds(n);
          default -> java.time.Duration.ofMinutes(n);
        };
      }
      return java.time.Duration.parse(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          key + "=" + value + ": expected a duration such as 500ms, 5s, 1m or PT5S", e);
    }
  }

  /**
   * Splits a {@code postgresql:} URI into pgjdbc's URL and the provider's parameters.
   *
   * @throws IllegalArgumentException naming what is expected
   */
  static Parsed parse(URI uri) {
    if (!"postgresql".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("expected a postgresql: URI but got " + redact(uri));
    }
    if (uri.isOpaque() || uri.getRawAuthority() == null || uri.getRawAuthority().isEmpty()) {
      throw new IllegalArgumentException(
          "the registry URI "
              + redact(uri)
              + " names no server; expected postgresql://host[:port]/database[?user=...&...]");
    }
    if (uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          "the registry URI "
              + redact(uri)
              + " puts credentials before the host; expected"
              + " postgresql://host[:port]/database?user=...&password=...");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (path.length() <= 1) {
      throw new IllegalArgumentException(
          "the registry URI "
              + redact(uri)
              + " names no database; expected postgresql://host[:port]/database[?user=...&...]");
    }
    Map<String, String> own = new LinkedHashMap<>();
    StringBuilder passed = new StringBuilder();
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        if (OWN.contains(key)) {
          own.put(key, value);
        } else {
          passed.append(passed.length() == 0 ? "?" : "&").append(pair);
        }
      }
    }
    String listen = own.get("listen");
    if (listen != null && !listen.equals("true") && !listen.equals("false")) {
      throw new IllegalArgumentException(
          "listen=" + listen + " in " + redact(uri) + ": expected true or false");
    }
    String artifacts = own.get("artifacts");
    if (artifacts != null
        && !artifacts.equals("postgresql")
        && !artifacts.toLowerCase(Locale.ROOT).startsWith("s3://")) {
      throw new IllegalArgumentException(
          "artifacts="
              + artifacts
              + " in "
              + redact(uri)
              + ": expected postgresql (in the same database) or s3://bucket[/prefix]");
    }
    if (artifacts != null && artifacts.toLowerCase(Locale.ROOT).startsWith("s3://")) {
      URI s3 = URI.create(artifacts);
      if (s3.getHost() == null || s3.getHost().isEmpty()) {
        throw new IllegalArgumentException(
            "artifacts=" + artifacts + " names no bucket: expected s3://bucket[/prefix]");
      }
    }
    Path cache;
    try {
      cache =
          own.containsKey("cache")
              ? Path.of(own.get("cache"))
              : Path.of(
                  System.getProperty("java.io.tmpdir"),
                  "mlops-" + System.getProperty("user.name", "user"),
                  "artifact-cache");
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException(
          "cache=" + own.get("cache") + " in " + redact(uri) + " is not a path: " + e.getMessage(),
          e);
    }
    for (String key : List.of("heartbeat", "heartbeatTimeout")) {
      if (own.containsKey(key)) {
        duration(key, own.get(key));
      }
    }
    String jdbc = "jdbc:postgresql://" + uri.getRawAuthority() + path + passed;
    String listener = own.get("listener");
    if (listener != null && !listener.matches("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}")) {
      throw new IllegalArgumentException(
          "listener=" + listener + " in " + redact(uri) + ": expected host:port");
    }
    String listenerUrl = listener == null ? null : "jdbc:postgresql://" + listener + path + passed;
    String description =
        "postgresql://"
            + uri.getRawAuthority()
            + path
            + " (artifacts: "
            + (artifacts == null ? "postgresql" : artifacts)
            + ")";
    return new Parsed(jdbc, listenerUrl, Map.copyOf(own), cache, description);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** The URI without the values of its {@code password} parameters, for messages. */
  static String redact(URI uri) {
    return uri.toString()
        .replaceAll("(?i)(password=)[^&]*", "$1***")
        .replaceAll("//[^/@]*@", "//***@");
  }

  /**
   * Gives each process its own cache directory (a cache must not be shared by two running
   * processes): {@code <base>/0}, {@code <base>/1}, ..., the first whose lock file this JVM can
   * lock, so a restarted instance finds its downloads again. The lock is held until the JVM exits.
   */
  static final class CacheSlots {
    private static final List<java.nio.channels.FileChannel> HELD =
        new java.util.concurrent.CopyOnWriteArrayList<>();

    private CacheSlots() {}

    /** A directory under {@code base}, or {@code base} itself when the URI named it. */
    static Path claim(Path base, boolean named) {
      if (named) {
        return base;
      }
      try {
        java.nio.file.Files.createDirectories(base);
        for (int n = 0; n < 1024; n++) {
          java.nio.channels.FileChannel ch =
              java.nio.channels.FileChannel.open(
                  base.resolve(n + ".lock"),
                  java.nio.file.StandardOpenOption.CREATE,
                  java.nio.file.StandardOpenOption.WRITE);
          java.nio.channels.FileLock lock;
          try {
            lock = ch.tryLock();
          } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // this JVM holds it already
          }
          if (lock == null) {
            ch.close();
            continue;
          }
          HELD.add(ch);
          return base.resolve(Integer.toString(n));
        }
      } catch (java.io.IOException e) {
        throw new RegistryException(
            "cannot claim an artifact cache directory under " + base + ": " + e.getMessage(), e);
      }
      throw new RegistryException(
          "all 1024 artifact cache directories under "
              + base
              + " are in use; give the registry URI a cache=<dir> parameter");
    }
  }

  /** Keeps the S3 classes out of the provider until artifacts are in S3. */
  private static final class S3Artifacts {
    static ArtifactStore open(URI s3, String endpoint, String region, Path cache) {
      software.amazon.awssdk.services.s3.S3ClientBuilder b =
          software.amazon.awssdk.services.s3.S3Client.builder();
      if (endpoint != null) {
        b.endpointOverride(URI.create(endpoint))
            .forcePathStyle(true)
            .requestChecksumCalculation(
                software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(
                software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED);
      }
      if (region != null) {
        b.region(software.amazon.awssdk.regions.Region.of(region));
      }
      software.amazon.awssdk.services.s3.S3Client client;
      try {
        client = b.build();
      } catch (RuntimeException e) {
        throw new RegistryException(
            "cannot build the S3 client for " + s3 + ": " + e.getMessage(), e);
      }
      String prefix = s3.getPath() == null ? "" : s3.getPath().replaceAll("^/+|/+$", "");
      S3ArtifactStore.Builder store =
          S3ArtifactStore.builder(client, s3.getHost()).cache(cache).closeClient();
      if (!prefix.isEmpty()) {
        store.prefix(prefix);
      }
      return store.build();
    }
  }
}
