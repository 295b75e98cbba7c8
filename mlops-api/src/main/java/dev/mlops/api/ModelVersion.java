package dev.mlops.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An immutable, numbered version of a model: its artifact files with their digests, the
 * signature read from the graph, and the metadata given at registration. Only {@link #status()}
 * can change over a version's life (it can be archived); a new object describes the new state.
 *
 * @param name model name
 * @param version version number, 1, 2, 3 ... per model
 * @param status whether the version is ready or archived
 * @param createdAt when the version was registered
 * @param createdBy who registered it
 * @param description free text
 * @param modelFile path of the main model file within {@link #files()}
 * @param files every artifact file (model and external data) with size and SHA-256
 * @param digest SHA-256 over the file manifest (each file's path and digest, sorted by path)
 * @param signature inputs and outputs read from the model graph
 * @param tags free key/value tags
 * @param lineage training run, data set and metrics
 * @param hasInputExample whether an input example is stored with the version
 * @param attachments named extra files stored with the version (a drift baseline, a model
 *     card), each with its size and SHA-256; read them with {@link ModelRegistry#attachment}
 */
public record ModelVersion(
    String name,
    long version,
    VersionStatus status,
    Instant createdAt,
    String createdBy,
    String description,
    String modelFile,
    List<ArtifactFile> files,
    String digest,
    ModelSignature signature,
    Map<String, String> tags,
    Lineage lineage,
    boolean hasInputExample,
    List<ArtifactFile> attachments) {

  /** Validates and copies collections. */
  public ModelVersion {
    ModelRef.checkName(name);
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1: " + version);
    }
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(createdBy, "createdBy");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(modelFile, "modelFile");
    files = List.copyOf(files);
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(signature, "signature");
    tags = java.util.Collections.unmodifiableMap(new TreeMap<>(tags));
    Objects.requireNonNull(lineage, "lineage");
    attachments = List.copyOf(attachments);
    if (files.stream().noneMatch(f -> f.path().equals(modelFile))) {
      throw new IllegalArgumentException("model file " + modelFile + " is not among the files " + files);
    }
  }

  /** A version without attachments. */
  public ModelVersion(
      String name,
      long version,
      VersionStatus status,
      Instant createdAt,
      String createdBy,
      String description,
      String modelFile,
      List<ArtifactFile> files,
      String digest,
      ModelSignature signature,
      Map<String, String> tags,
      Lineage lineage,
      boolean hasInputExample) {
    this(name, version, status, createdAt, createdBy, description, modelFile, files, digest, signature, tags,
        lineage, hasInputExample, List.of());
  }

  /** A reference that pins exactly this version. */
  public ModelRef ref() {
    return ModelRef.version(name, version);
  }

  /** Total size of the artifact files in bytes. */
  public long sizeBytes() {
    return files.stream().mapToLong(ArtifactFile::size).sum();
  }

  /** Returns a copy with another status. */
  public ModelVersion withStatus(VersionStatus newStatus) {
    return new ModelVersion(
        name, version, newStatus, createdAt, createdBy, description, modelFile, files, digest,
        signature, tags, lineage, hasInputExample, attachments);
  }

  @Override
  public String toString() {
    return ref() + " (" + status + ", sha256 " + digest.substring(0, 12) + ")";
  }
}
