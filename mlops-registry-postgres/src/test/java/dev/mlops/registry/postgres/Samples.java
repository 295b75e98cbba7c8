package dev.mlops.registry.postgres;

import dev.mlops.api.ArtifactFile;
import dev.mlops.api.AuditAction;
import dev.mlops.api.AuditDetails;
import dev.mlops.api.AuditEntry;
import dev.mlops.api.ElementType;
import dev.mlops.api.ModelSignature;
import dev.mlops.api.ModelVersion;
import dev.mlops.api.TensorSpec;
import dev.mlops.api.spi.NewVersion;
import dev.mlops.runtime.registry.GovernedRegistry;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Small, deterministic version records and entries for this module's own store tests. */
final class Samples {

  private static final Instant T0 = Instant.parse("2026-03-01T12:00:00.123456789Z");

  private Samples() {}

  static ModelVersion version(String model, long n) {
    List<ArtifactFile> files =
        List.of(
            new ArtifactFile("model.onnx", 1000L + n, "ab".repeat(31) + String.format("%02d", n)));
    return ModelVersion.builder(model, n)
        .createdAt(T0.plusSeconds(n))
        .createdBy("test")
        .modelFile("model.onnx")
        .files(files)
        .digest(GovernedRegistry.manifestDigest(files))
        .signature(
            new ModelSignature(
                List.of(TensorSpec.of("x", ElementType.FLOAT, TensorSpec.DYNAMIC, 3)),
                List.of(TensorSpec.of("y", ElementType.FLOAT, TensorSpec.DYNAMIC))))
        .build();
  }

  static AuditEntry registered(String model, long n) {
    ModelVersion v = version(model, n);
    return new AuditEntry(
        v.createdAt(),
        "test",
        AuditAction.REGISTER,
        model,
        AuditDetails.registered(n, v.digest(), Map.of()),
        "registration " + n);
  }

  static NewVersion newVersion(String model, long n, Map<String, byte[]> files) {
    return new NewVersion(version(model, n), files, registered(model, n));
  }
}
