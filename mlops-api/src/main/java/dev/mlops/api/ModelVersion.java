package dev.mlops.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An immutable, numbered version of a model: its artifact files with their digests, the signature
 * read from the graph, and the metadata given at registration. Only {@link #status()} can change
 * over a version's life (it can be archived); a new object describes the new state.
 *
 * <p>Built with {@link #builder(String, long)} (registries build them; applications read them), so
 * that fields can be added without breaking callers. Immutable and thread-safe; equal when every
 * field is equal.
 */
public final class ModelVersion {

  private final String name;
  private final long version;
  private final VersionStatus status;
  private final Instant createdAt;
  private final String createdBy;
  private final String description;
  private final String modelFile;
  private final List<ArtifactFile> files;
  private final String digest;
  private final ModelSignature signature;
  private final Map<String, String> tags;
  private final Lineage lineage;
  private final boolean hasInputExample;
  private final List<ArtifactFile> attachments;

  private ModelVersion(Builder b) {
    ModelRef.checkName(b.name);
    if (b.version < 1) {
      throw new IllegalArgumentException("version must be >= 1: " + b.version);
    }
    this.name = b.name;
    this.version = b.version;
    this.status = Objects.requireNonNull(b.status, "status");
    this.createdAt = Objects.requireNonNull(b.createdAt, "createdAt");
    this.createdBy = Objects.requireNonNull(b.createdBy, "createdBy");
    this.description = Objects.requireNonNull(b.description, "description");
    this.modelFile = Objects.requireNonNull(b.modelFile, "modelFile");
    this.files = List.copyOf(Objects.requireNonNull(b.files, "files"));
    this.digest = Objects.requireNonNull(b.digest, "digest");
    this.signature = Objects.requireNonNull(b.signature, "signature");
    this.tags = java.util.Collections.unmodifiableMap(new TreeMap<>(b.tags));
    this.lineage = Objects.requireNonNull(b.lineage, "lineage");
    this.hasInputExample = b.hasInputExample;
    this.attachments = List.copyOf(b.attachments);
    if (files.stream().noneMatch(f -> f.path().equals(modelFile))) {
      throw new IllegalArgumentException(
          "model file " + modelFile + " is not among the files " + files);
    }
  }

  /**
   * Starts a version of {@code name} numbered {@code version}. Required besides: {@code createdAt},
   * {@code modelFile}, {@code files}, {@code digest} and {@code signature}; the status is {@link
   * VersionStatus#READY}, text fields empty, lineage {@link Lineage#NONE} and collections empty
   * unless set.
   */
  public static Builder builder(String name, long version) {
    return new Builder(name, version);
  }

  /** A builder holding every field of this version, to make a changed copy. */
  public Builder toBuilder() {
    return new Builder(name, version)
        .status(status)
        .createdAt(createdAt)
        .createdBy(createdBy)
        .description(description)
        .modelFile(modelFile)
        .files(files)
        .digest(digest)
        .signature(signature)
        .tags(tags)
        .lineage(lineage)
        .hasInputExample(hasInputExample)
        .attachments(attachments);
  }

  /** Model name. */
  public String name() {
    return name;
  }

  /** Version number, 1, 2, 3 ... per model. */
  public long version() {
    return version;
  }

  /** Whether the version is ready or archived. */
  public VersionStatus status() {
    return status;
  }

  /** When the version was registered. */
  public Instant createdAt() {
    return createdAt;
  }

  /** Who registered it. */
  public String createdBy() {
    return createdBy;
  }

  /** Free text; empty when none. */
  public String description() {
    return description;
  }

  /** Path of the main model file within {@link #files()}. */
  public String modelFile() {
    return modelFile;
  }

  /** Every artifact file (model and external data) with size and SHA-256. */
  public List<ArtifactFile> files() {
    return files;
  }

  /** SHA-256 over the file manifest (each file's path and digest, sorted by path). */
  public String digest() {
    return digest;
  }

  /** Inputs and outputs read from the model graph. */
  public ModelSignature signature() {
    return signature;
  }

  /** Free key/value tags. */
  public Map<String, String> tags() {
    return tags;
  }

  /** Training run, data set and metrics. */
  public Lineage lineage() {
    return lineage;
  }

  /** Whether an input example is stored with the version. */
  public boolean hasInputExample() {
    return hasInputExample;
  }

  /**
   * Named extra files stored with the version (a drift baseline, a model card), each with its size
   * and SHA-256; read them with {@link ModelRegistry#attachment}.
   */
  public List<ArtifactFile> attachments() {
    return attachments;
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
    return toBuilder().status(newStatus).build();
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ModelVersion)) {
      return false;
    }
    ModelVersion v = (ModelVersion) o;
    return version == v.version
        && hasInputExample == v.hasInputExample
        && name.equals(v.name)
        && status == v.status
        && createdAt.equals(v.createdAt)
        && createdBy.equals(v.createdBy)
        && description.equals(v.description)
        && modelFile.equals(v.modelFile)
        && files.equals(v.files)
        && digest.equals(v.digest)
        && signature.equals(v.signature)
        && tags.equals(v.tags)
        && lineage.equals(v.lineage)
        && attachments.equals(v.attachments);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, version, status, createdAt, digest);
  }

  @Override
  public String toString() {
    return ref()
        + " ("
        + status
        + ", sha256 "
        + digest.substring(0, Math.min(12, digest.length()))
        + ")";
  }

  /** Builder for {@link ModelVersion}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final long version;
    private VersionStatus status = VersionStatus.READY;
    private Instant createdAt;
    private String createdBy = "";
    private String description = "";
    private String modelFile;
    private List<ArtifactFile> files;
    private String digest;
    private ModelSignature signature;
    private Map<String, String> tags = Map.of();
    private Lineage lineage = Lineage.NONE;
    private boolean hasInputExample;
    private List<ArtifactFile> attachments = List.of();

    private Builder(String name, long version) {
      this.name = name;
      this.version = version;
    }

    /** Ready (default) or archived. */
    public Builder status(VersionStatus status) {
      this.status = status;
      return this;
    }

    /** When it was registered (required). */
    public Builder createdAt(Instant createdAt) {
      this.createdAt = createdAt;
      return this;
    }

    /** Who registered it. */
    public Builder createdBy(String createdBy) {
      this.createdBy = createdBy;
      return this;
    }

    /** Free text. */
    public Builder description(String description) {
      this.description = description;
      return this;
    }

    /** Path of the main model file among the files (required). */
    public Builder modelFile(String modelFile) {
      this.modelFile = modelFile;
      return this;
    }

    /** Every artifact file (required). */
    public Builder files(List<ArtifactFile> files) {
      this.files = files;
      return this;
    }

    /** SHA-256 over the file manifest (required). */
    public Builder digest(String digest) {
      this.digest = digest;
      return this;
    }

    /** Inputs and outputs (required). */
    public Builder signature(ModelSignature signature) {
      this.signature = signature;
      return this;
    }

    /** Tags. */
    public Builder tags(Map<String, String> tags) {
      this.tags = Objects.requireNonNull(tags, "tags");
      return this;
    }

    /** Lineage. */
    public Builder lineage(Lineage lineage) {
      this.lineage = lineage;
      return this;
    }

    /** Whether an input example is stored with it. */
    public Builder hasInputExample(boolean hasInputExample) {
      this.hasInputExample = hasInputExample;
      return this;
    }

    /** Attachments. */
    public Builder attachments(List<ArtifactFile> attachments) {
      this.attachments = Objects.requireNonNull(attachments, "attachments");
      return this;
    }

    /**
     * Builds the version.
     *
     * @throws NullPointerException if a required field is missing
     * @throws IllegalArgumentException if the name, number or model file is invalid
     */
    public ModelVersion build() {
      return new ModelVersion(this);
    }
  }
}
