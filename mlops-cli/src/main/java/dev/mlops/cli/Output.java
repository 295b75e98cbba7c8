package dev.mlops.cli;

import dev.mlops.runtime.registry.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** JSON on one line, or a plain table with a header row and columns two spaces apart. */
final class Output {

  private Output() {}

  static void json(PrintWriter out, Object value) {
    out.println(Json.write(value));
  }

  static void table(PrintWriter out, List<String> headers, List<List<String>> rows) {
    int[] width = new int[headers.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(headers);
    all.addAll(rows);
    for (List<String> r : all) {
      for (int i = 0; i < r.size(); i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    for (List<String> r : all) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < r.size(); i++) {
        if (i > 0) {
          sb.append("  ");
        }
        sb.append(r.get(i));
        if (i < r.size() - 1) {
          sb.append(" ".repeat(width[i] - r.get(i).length()));
        }
      }
      out.println(sb.toString().stripTrailing());
    }
  }

  /** Aliases by version: version to the sorted alias names that point at it. */
  static Map<Long, List<String>> aliasesByVersion(Map<String, Long> aliases) {
    Map<Long, List<String>> out = new TreeMap<>();
    new TreeMap<>(aliases).forEach((a, v) -> out.computeIfAbsent(v, k -> new ArrayList<>()).add(a));
    return out;
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }

  static String shortDigest(String digest) {
    return digest.length() > 16 ? digest.substring(0, 16) : digest;
  }
}
