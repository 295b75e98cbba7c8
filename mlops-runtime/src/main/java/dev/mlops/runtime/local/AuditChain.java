package dev.mlops.runtime.local;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.RegistryException;
import dev.mlops.runtime.registry.Records;
import dev.mlops.runtime.registry.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The hash chain that makes the audit log tamper-evident: each line carries, as {@code previous},
 * the SHA-256 of the line before it (the first line: {@link #START}). Editing, inserting or
 * removing a line breaks the chain at the next one, so reading the log fails naming the line. Lines
 * written before the chain existed carry no hash; they are accepted only ahead of the first chained
 * line.
 *
 * <p>A writer of the whole directory can rebuild the whole chain; against that, the process
 * remembers how far it has read or written each log (the number of lines and the hash of the last),
 * and a later read that does not extend that prefix fails too. Thread-safe.
 */
final class AuditChain {

  /** The {@code previous} of the first line. */
  static final String START = "0".repeat(64);

  /** What this process last saw of each log, by real path. */
  private static final Map<Path, Seen> SEEN = new ConcurrentHashMap<>();

  private record Seen(int lines, String lastHash) {}

  private AuditChain() {}

  /** The {@code previous} of the line after {@code line} (null: the log is empty). */
  static String after(byte[] line) {
    return line == null ? START : Storage.sha256Hex(line);
  }

  /**
   * Parses the log's bytes, checking the chain; a torn last line (a crash during an append, no
   * newline) is left out.
   *
   * @throws RegistryException naming the first line that does not follow from the one before
   */
  static List<AuditEntry> read(Path log, byte[] content) {
    List<AuditEntry> out = new ArrayList<>();
    String expected = START;
    boolean chained = false;
    int start = 0;
    int lineNo = 0;
    String lastHash = null;
    Seen seen = SEEN.get(log);
    for (int i = 0; i < content.length; i++) {
      if (content[i] != '\n') {
        continue;
      }
      byte[] line = Arrays.copyOfRange(content, start, i);
      start = i + 1;
      lineNo++;
      Records.AuditLine parsed;
      try {
        parsed = Records.auditLineFromJson(new String(line, StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        throw new RegistryException(
            "audit log " + log + " line " + lineNo + " is damaged: " + e.getMessage(), e);
      }
      if (parsed.previous() == null) {
        if (chained) {
          throw broken(log, lineNo, "it carries no hash of the line before");
        }
      } else {
        chained = true;
        if (!parsed.previous().equals(expected)) {
          throw broken(log, lineNo, "the line before it is not the one it was appended after");
        }
      }
      lastHash = after(line);
      expected = lastHash;
      if (seen != null && lineNo == seen.lines() && !lastHash.equals(seen.lastHash())) {
        throw broken(log, lineNo, "it changed since this process read or wrote it");
      }
      out.add(parsed.entry());
    }
    // Bytes after the last newline are a torn line (a crash during an append); the next append
    // cuts them off, so they are not an entry.
    if (seen != null && lineNo < seen.lines()) {
      throw new RegistryException(
          "audit log "
              + log
              + " has "
              + lineNo
              + " entries but this process saw "
              + seen.lines()
              + "; entries were removed");
    }
    if (lineNo > 0) {
      SEEN.put(log, new Seen(lineNo, lastHash));
    }
    return out;
  }

  private static RegistryException broken(Path log, int lineNo, String why) {
    return new RegistryException(
        "audit log "
            + log
            + " was tampered with at line "
            + lineNo
            + ": "
            + why
            + "; the log is append-only and each line carries the hash of the one before");
  }
}
