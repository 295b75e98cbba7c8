package dev.mlops.micronaut;

import io.micronaut.context.exceptions.ConfigurationException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads property values into the runtime's types, failing with a {@link ConfigurationException}
 * that names the property, what it accepts and what it found.
 */
final class Settings {

  private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private Settings() {}

  /** An enum constant written in kebab case ({@code resource-preserving}) or as its name. */
  static <E extends Enum<E>> E choice(String property, String value, Class<E> type) {
    String wanted = value.trim().replace('-', '_').toUpperCase(Locale.ROOT);
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(wanted)) {
        return e;
      }
    }
    throw new ConfigurationException(
        property
            + ": expected one of "
            + Arrays.stream(type.getEnumConstants())
                .map(Settings::kebab)
                .collect(Collectors.joining(", "))
            + " but found '"
            + value
            + "'");
  }

  /** The kebab-case spelling of an enum constant, as properties write it. */
  static String kebab(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** A duration: {@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601. */
  static Duration duration(String property, String value) {
    String v = value.trim();
    Matcher m = SIMPLE_DURATION.matcher(v);
    Duration d = null;
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          };
    } else {
      try {
        d = Duration.parse(v);
      } catch (DateTimeParseException e) {
        // reported below
      }
    }
    if (d == null || d.isNegative()) {
      throw new ConfigurationException(
          property
              + ": expected a duration such as 250ms, 5s, 2m, 1h or PT5S but found '"
              + value
              + "'");
    }
    return d;
  }

  /** A duration above zero. */
  static Duration positiveDuration(String property, String value) {
    Duration d = duration(property, value);
    if (d.isZero()) {
      throw new ConfigurationException(
          property + ": expected a duration above zero but found '" + value + "'");
    }
    return d;
  }

  /** Fails unless {@code value} is at least {@code min}. */
  static long atLeast(String property, long value, long min) {
    if (value < min) {
      throw new ConfigurationException(
          property + ": expected a number >= " + min + " but found " + value);
    }
    return value;
  }
}
