package dev.mlops.test;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.ElementType;
import dev.mlops.api.Lineage;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The version records, side files and audit entries the store kit and its child processes write:
 * deterministic in (model, number, actor), so that a reader can tell exactly what a version must
 * hold. Every text field carries characters a careless encoding loses (quotes, a backslash, a line
 * break, a tab, non-ASCII letters, a character outside the Basic Multilingual Plane).
 */
final class StoreSamples {

  /** When sample number 0 was made; with nanoseconds, which a store must keep. */
  static final Instant T0 = Instant.parse("2026-03-01T12:00:00.123456789Z");

  /** Characters that a careless encoding loses. */
  static final String AWKWARD = "\"quoted\" back\\slash\nline\ttab é ü 中文 \uD83D\uDE80";

  private static final HexFormat HEX = HexFormat.of();

  private StoreSamples() {}

  /**
   * The record of version {@code n} of {@code model} registered by {@code actor}, without side
   * files.
   */
  static ModelVersion version(String model, long n, String actor) {
    return version(model, n, actor, Map.of());
  }

  /** The record of version {@code n}, describing the side files it is stored with. */
  static ModelVersion version(String model, long n, String actor, Map<String, byte[]> sideFiles) {
    List<ArtifactFile> files =
        List.of(
            new ArtifactFile("data/weights.bin", 4096L * n, sha256(model + "/" + n + "/weights")),
            new ArtifactFile("model.onnx", 1000L + n, sha256(model + "/" + n + "/model")));
    List<ArtifactFile> attachments = new ArrayList<>();
    for (Map.Entry<String, byte[]> f : new TreeMap<>(sideFiles).entrySet()) {
      if (f.getKey().startsWith(NewVersion.ATTACHMENTS)) {
        attachments.add(
            new ArtifactFile(
                f.getKey().substring(NewVersion.ATTACHMENTS.length()),
                f.getValue().length,
                sha256(f.getValue())));
      }
    }
    Map<String, String> tags = new TreeMap<>();
    tags.put("seq", Long.toString(n));
    tags.put("team", "risk & fraud");
    tags.put("note", AWKWARD);
    return ModelVersion.builder(model, n)
        .createdAt(T0.plusSeconds(n))
        .createdBy(actor)
        .description("version " + n + " of " + model + ": " + AWKWARD)
        .modelFile("model.onnx")
        .files(files)
        .digest(GovernedRegistry.manifestDigest(files))
        .signature(
            new ModelSignature(
                List.of(TensorSpec.of("features", ElementType.FLOAT, TensorSpec.DYNAMIC, 30)),
                List.of(
                    TensorSpec.of("label", ElementType.INT64, TensorSpec.DYNAMIC),
                    TensorSpec.of("probabilities", ElementType.FLOAT, TensorSpec.DYNAMIC, 2))))
        .tags(tags)
        .lineage(
            new Lineage(
                "run-" + n,
                "s3://bucket/data v" + n,
                Map.of("auc", 0.9 + n / 1000.0, "loss", 1e-7)))
        .hasInputExample(sideFiles.containsKey(NewVersion.INPUT_EXAMPLE))
        .attachments(attachments)
        .build();
  }

  /** The audit entry of version {@code n}'s registration. */
  static AuditEntry registered(String model, long n, String actor) {
    ModelVersion v = version(model, n, actor);
    return new AuditEntry(
        v.createdAt(),
        actor,
        AuditAction.REGISTER,
        model,
        AuditDetails.registered(n, v.digest(), Map.of(AuditDetails.SIGNATURE, "unchecked")),
        "registration " + n + " by " + actor);
  }

  /**
   * The record a rollout write by {@code actor} stores for {@code alias} at {@code revision}:
   * opaque to the store, which keeps it exactly as given.
   */
  static String rolloutRecord(String model, String alias, long revision, String actor) {
    return "{\"model\":\""
        + model
        + "\",\"alias\":\""
        + alias
        + "\",\"weight\":"
        + (revision * 100)
        + ",\"by\":\""
        + actor
        + "\",\"note\":"
        + AWKWARD
        + "}";
  }

  /**
   * The audit entry of the rollout write by {@code actor} that brings {@code alias} to {@code
   * revision}: {@link AuditAction#START_ROLLOUT} for revision 1, {@link AuditAction#UPDATE_ROLLOUT}
   * after.
   */
  static AuditEntry rolloutWritten(String model, String alias, long revision, String actor) {
    Map<String, String> details = new TreeMap<>();
    details.put("alias", alias);
    details.put("rollout", "rollout-" + alias);
    details.put("from", "1");
    details.put("to", "2");
    details.put("weight", Long.toString(revision * 100));
    details.put("change", revision == 1 ? "start" : "weight");
    return new AuditEntry(
        T0.plusSeconds(7200).plusMillis(revision),
        actor,
        revision == 1 ? AuditAction.START_ROLLOUT : AuditAction.UPDATE_ROLLOUT,
        model,
        details,
        "rollout of " + alias + " at revision " + revision + " by " + actor);
  }

  /** What {@code insertVersion}'s {@code make} returns for number {@code n}. */
  static NewVersion newVersion(String model, long n, String actor, Map<String, byte[]> sideFiles) {
    return new NewVersion(
        version(model, n, actor, sideFiles), sideFiles, registered(model, n, actor));
  }

  /**
   * The side files of version {@code n}: an input example and a baseline attachment of {@code
   * bytes} bytes each (every byte value occurs), a manifest signature, a text attachment and an
   * empty one.
   */
  static Map<String, byte[]> sideFiles(long n, int bytes) {
    Map<String, byte[]> files = new TreeMap<>();
    files.put(NewVersion.INPUT_EXAMPLE, noise(n, 1, bytes));
    files.put(
        NewVersion.MANIFEST_SIGNATURE,
        ("{\"keyId\":\"kit-key\",\"version\":" + n + ",\"note\":\"é\"}")
            .getBytes(StandardCharsets.UTF_8));
    files.put(NewVersion.ATTACHMENTS + "baseline.bin", noise(n, 2, bytes));
    files.put(
        NewVersion.ATTACHMENTS + "card.md",
        ("# Model card " + n + "\n" + AWKWARD).getBytes(StandardCharsets.UTF_8));
    files.put(NewVersion.ATTACHMENTS + "empty.txt", new byte[0]);
    return files;
  }

  /**
   * {@code length} pseudo-random bytes determined by (n, stream); starts with every byte value
   * once.
   */
  static byte[] noise(long n, int stream, int length) {
    byte[] out = new byte[length];
    int i = 0;
    for (; i < Math.min(256, length); i++) {
      out[i] = (byte) i;
    }
    long x = 0x9E3779B97F4A7C15L * (n + 1) + stream;
    for (; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      out[i] = (byte) x;
    }
    return out;
  }

  /**
   * How {@code actual} differs from {@code expected} (lengths, first differing byte), or null if it
   * does not.
   */
  static String difference(byte[] actual, byte[] expected) {
    if (java.util.Arrays.equals(actual, expected)) {
      return null;
    }
    int common = Math.min(actual.length, expected.length);
    int i = java.util.Arrays.mismatch(actual, expected);
    return actual.length
        + " bytes instead of "
        + expected.length
        + (i >= 0 && i < common
            ? ", first difference at byte " + i
            : ", equal up to the shorter length");
  }

  static String sha256(String text) {
    return sha256(text.getBytes(StandardCharsets.UTF_8));
  }

  static String sha256(byte[] bytes) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
