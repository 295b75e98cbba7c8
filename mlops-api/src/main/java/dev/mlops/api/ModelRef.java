package dev.mlops.api;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * How callers name a model, in MLflow's URI form: {@code models:/fraud/3} (version 3), {@code
 * models:/fraud@production} (whatever the alias points at) and {@code models:/fraud} (the latest
 * version). Parsed strictly; immutable and thread-safe.
 *
 * <p>Model names are 1 to 128 characters of letters, digits, {@code .}, {@code _} and {@code -},
 * starting with a letter or digit. Alias names are 1 to 64 characters of letters, digits, {@code _}
 * and {@code -}, starting with a letter, and not {@code latest}. Versions are positive integers.
 *
 * <p>Names become directory and file names in a registry, so neither may be a device name that
 * Windows reserves ({@code CON}, {@code PRN}, {@code AUX}, {@code NUL}, {@code CONIN$}, {@code
 * CONOUT$}, {@code COM0}-{@code COM9}, {@code LPT0}-{@code LPT9}), in any case and with any
 * extension ({@code nul.onnx} is refused), and a model name may not end in {@code .}, which Windows
 * drops ({@code fraud.} would be {@code fraud}).
 */
public final class ModelRef {

  private static final String PREFIX = "models:/";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern ALIAS = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");

  private final String name;
  private final long version;
  private final String alias;

  private ModelRef(String name, long version, String alias) {
    this.name = name;
    this.version = version;
    this.alias = alias;
  }

  /**
   * Parses a {@code models:/} URI.
   *
   * @throws InvalidModelRefException naming the part that is wrong and the accepted forms
   */
  public static ModelRef parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (!uri.startsWith(PREFIX)) {
      throw invalid(uri, "it must start with 'models:/'");
    }
    String rest = uri.substring(PREFIX.length());
    int at = rest.indexOf('@');
    int slash = rest.indexOf('/');
    if (at >= 0 && slash >= 0) {
      throw invalid(uri, "it names both a version and an alias");
    }
    if (at >= 0) {
      return alias(rest.substring(0, at), rest.substring(at + 1));
    }
    if (slash >= 0) {
      String v = rest.substring(slash + 1);
      if (!v.matches("[1-9][0-9]{0,17}")) {
        throw invalid(uri, "the version '" + v + "' is not a positive integer");
      }
      return version(rest.substring(0, slash), Long.parseLong(v));
    }
    return latest(rest);
  }

  /** A reference to one fixed version. */
  public static ModelRef version(String name, long version) {
    checkName(name);
    if (version < 1) {
      throw new InvalidModelRefException("version must be >= 1 but was " + version);
    }
    return new ModelRef(name, version, null);
  }

  /** A reference to whatever version an alias points at. */
  public static ModelRef alias(String name, String alias) {
    checkName(name);
    checkAlias(alias);
    return new ModelRef(name, 0, alias);
  }

  /** A reference to the latest (highest-numbered, not archived) version. */
  public static ModelRef latest(String name) {
    checkName(name);
    return new ModelRef(name, 0, null);
  }

  /** Throws {@link InvalidModelRefException} unless {@code name} is a valid model name. */
  public static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidModelRefException(
          "model name '"
              + name
              + "' is invalid: expected 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    String problem = PortableNames.problem(name);
    if (problem != null) {
      throw new InvalidModelRefException(
          "model name '"
              + name
              + "' is refused: "
              + problem
              + "; expected "
              + PortableNames.RULE
              + ": choose another name");
    }
  }

  /**
   * Throws {@link InvalidModelRefException} unless {@code alias} is a valid alias name. {@code
   * latest}, in any case, is reserved: {@code models:/<name>} already means the latest version; so
   * are the Windows device names (see the class comment), since an alias can become a file name.
   */
  public static void checkAlias(String alias) {
    if (alias == null || !ALIAS.matcher(alias).matches()) {
      throw new InvalidModelRefException(
          "alias '"
              + alias
              + "' is invalid: expected 1-64 letters, digits, '_' or '-', starting with a letter");
    }
    if (alias.equalsIgnoreCase("latest")) {
      throw new InvalidModelRefException(
          "alias '"
              + alias
              + "' is reserved: models:/<name> already means the latest"
              + " version; choose another alias name");
    }
    String problem = PortableNames.problem(alias);
    if (problem != null) {
      throw new InvalidModelRefException(
          "alias '"
              + alias
              + "' is refused: "
              + problem
              + "; expected "
              + PortableNames.RULE
              + ": choose another alias name");
    }
  }

  private static InvalidModelRefException invalid(String uri, String why) {
    return new InvalidModelRefException(
        "invalid model reference '"
            + uri
            + "': "
            + why
            + "; expected models:/<name>/<version>, models:/<name>@<alias> or models:/<name>");
  }

  /** The model name. */
  public String name() {
    return name;
  }

  /** The version, when this reference pins one. */
  public OptionalLong version() {
    return version > 0 ? OptionalLong.of(version) : OptionalLong.empty();
  }

  /** The alias, when this reference follows one. */
  public Optional<String> alias() {
    return Optional.ofNullable(alias);
  }

  /** Whether this reference means the latest version. */
  public boolean isLatest() {
    return version == 0 && alias == null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelRef
        && ((ModelRef) o).name.equals(name)
        && ((ModelRef) o).version == version
        && Objects.equals(((ModelRef) o).alias, alias);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, alias);
  }

  /** The canonical URI form, which {@link #parse} accepts. */
  @Override
  public String toString() {
    if (alias != null) {
      return PREFIX + name + "@" + alias;
    }
    return version > 0 ? PREFIX + name + "/" + version : PREFIX + name;
  }
}
