package dev.mlops.api;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rule that keeps a registry's names meaning one file on every platform its directory may be
 * copied to: Windows opens a device instead of a file for {@code CON}, {@code NUL}, {@code COM1}
 * and the like, whatever the extension, and drops a trailing dot or space, so {@code weights.} and
 * {@code weights} would be one file. Package-private: callers see it through {@link
 * ModelRef#checkName}, {@link ModelRef#checkAlias} and {@link ArtifactFile#unportableReason}.
 */
final class PortableNames {

  /** The device names Windows reserves, upper case; COM and LPT also take ¹ ² ³ as their digit. */
  static final Set<String> DEVICES;

  static {
    Set<String> d = new TreeSet<>(Set.of("CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"));
    for (String digit : "0 1 2 3 4 5 6 7 8 9 \u00b9 \u00b2 \u00b3".split(" ")) {
      d.add("COM" + digit);
      d.add("LPT" + digit);
    }
    DEVICES = Set.copyOf(d);
  }

  /** How messages list what is refused. */
  static final String RULE =
      "a name whose part before the first '.' is none of the Windows device names CON, PRN, AUX,"
          + " NUL, CONIN$, CONOUT$, COM0-COM9, LPT0-LPT9 (nor COM or LPT with \u00b9, \u00b2 or"
          + " \u00b3), in any case, and that does not end in '.' or ' '";

  private PortableNames() {}

  /**
   * Why one name (a model name, an alias, one segment of a file path) is not portable, as a clause
   * for a message ({@code "it ends in '.'..."}), or {@code null} when it is.
   */
  static String problem(String name) {
    // No regular expression: a model name is checked whenever a ModelRef or ModelVersion is made.
    int n = name.length();
    if (n > 0 && (name.charAt(n - 1) == '.' || name.charAt(n - 1) == ' ')) {
      int kept = n;
      while (kept > 0 && (name.charAt(kept - 1) == '.' || name.charAt(kept - 1) == ' ')) {
        kept--;
      }
      return "it ends in '"
          + name.charAt(n - 1)
          + "', which Windows drops from file names, so it would name the same file as '"
          + name.substring(0, kept)
          + "'";
    }
    int end = name.indexOf('.');
    if (end < 0) {
      end = n;
    }
    // Windows also ignores spaces before the extension: "NUL .txt" is the device too.
    while (end > 0 && name.charAt(end - 1) == ' ') {
      end--;
    }
    if (end < 3 || end > 7) {
      return null; // every device name is 3 to 7 characters long
    }
    String stem = name.substring(0, end);
    String upper = stem.toUpperCase(Locale.ROOT);
    if (DEVICES.contains(upper)) {
      return "its part before the first '.', '"
          + stem
          + "', is the device name "
          + upper
          + ", which Windows reserves with any extension and in any case, so the file would be"
          + " the device";
    }
    return null;
  }
}
