package dev.mlops.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of mlops-runtime depend on each other without a cycle, read from the sources' own
 * import lines and qualified names, so that each package can be understood (and replaced) on its
 * own.
 */
class PackageCyclesTest {

  private static final Path SOURCES = Path.of("src/main/java");
  private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
  private static final Pattern REFERENCE =
      Pattern.compile("\\b(dev\\.mlops\\.[a-z][\\w.]*?)\\.[A-Z]\\w*");
  private static final Pattern COMMENT = Pattern.compile("/\\*[\\s\\S]*?\\*/|//[^\\n]*");

  static Map<String, Set<String>> dependencies(Path sources) throws IOException {
    Map<String, Set<String>> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(sources)) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        String text = Files.readString(f);
        Matcher pm = PACKAGE.matcher(text);
        if (!pm.find()) {
          continue;
        }
        String pkg = pm.group(1);
        Set<String> deps = out.computeIfAbsent(pkg, k -> new TreeSet<>());
        Matcher m = REFERENCE.matcher(COMMENT.matcher(text).replaceAll(""));
        while (m.find()) {
          if (!m.group(1).equals(pkg) && m.group(1).startsWith("dev.mlops.runtime")) {
            deps.add(m.group(1));
          }
        }
      }
    }
    return out;
  }

  /** Every dependency {@code a -> b} where {@code b} also reaches {@code a}. */
  static List<String> cycles(Map<String, Set<String>> deps) {
    List<String> out = new ArrayList<>();
    deps.forEach(
        (a, bs) -> {
          for (String b : bs) {
            Set<String> seen = new HashSet<>();
            Deque<String> todo = new ArrayDeque<>(List.of(b));
            while (!todo.isEmpty()) {
              for (String c : deps.getOrDefault(todo.pop(), Set.of())) {
                if (seen.add(c)) {
                  todo.push(c);
                }
              }
            }
            if (seen.contains(a)) {
              out.add(a + " -> " + b);
            }
          }
        });
    return out;
  }

  @Test
  void noPackageOfTheRuntimeDependsOnItselfThroughAnother() throws IOException {
    Map<String, Set<String>> deps = dependencies(SOURCES);
    assertThat(deps)
        .containsKeys("dev.mlops.runtime", "dev.mlops.runtime.loading", "dev.mlops.runtime.onnx");
    assertThat(cycles(deps)).as("package dependencies " + deps).isEmpty();
  }

  @Test
  void theCheckFindsACycle() {
    Map<String, Set<String>> deps = new TreeMap<>();
    deps.put("a", Set.of("b"));
    deps.put("b", Set.of("c"));
    deps.put("c", Set.of("a"));
    deps.put("d", Set.of("a"));
    assertThat(cycles(deps)).containsExactly("a -> b", "b -> c", "c -> a");
  }
}
