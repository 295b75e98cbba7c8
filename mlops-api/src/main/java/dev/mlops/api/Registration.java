package dev.mlops.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything needed to register a new model version: the model name, the artifact source and
 * optional metadata. Build with {@link #builder(String, ArtifactSource)}; immutable once built.
 */
public final class Registration {

  private final String model;
  private final ArtifactSource source;
  private final String description;
  private final Map<String, String> tags;
  private final Lineage lineage;
  private final Map<String, Tensor> inputExample;
  private final Map<String, byte[]> attachments;
  private final ManifestSignature manifestSignature;

  private Registration(Builder b) {
    this.manifestSignature = b.manifestSignature;
    this.attachments = java.util.Collections.unmodifiableMap(new TreeMap<>(b.attachments));
    this.model = b.model;
    this.source = b.source;
    this.description = b.description;
    this.tags = java.util.Collections.unmodifiableMap(new TreeMap<>(b.tags));
    this.lineage = b.lineage;
    this.inputExample =
        b.inputExample == null
            ? null
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(b.inputExample));
  }

  /** Starts a registration of a new version of {@code model} from {@code source}. */
  public static Builder builder(String model, ArtifactSource source) {
    return new Builder(model, source);
  }

  /** The model name. */
  public String model() {
    return model;
  }

  /** Where the artifact comes from. */
  public ArtifactSource source() {
    return source;
  }

  /** Free-text description; empty when none. */
  public String description() {
    return description;
  }

  /** Tags. */
  public Map<String, String> tags() {
    return tags;
  }

  /** Lineage; {@link Lineage#NONE} when none. */
  public Lineage lineage() {
    return lineage;
  }

  /** Named input tensors that the model accepts, stored with the version and used for warm-up. */
  public Optional<Map<String, Tensor>> inputExample() {
    return Optional.ofNullable(inputExample);
  }

  /** Named extra files to store with the version, by name. The arrays must not be modified. */
  public Map<String, byte[]> attachments() {
    return attachments;
  }

  /** The detached signature over the artifact's file manifest, if one was given. */
  public Optional<ManifestSignature> manifestSignature() {
    return Optional.ofNullable(manifestSignature);
  }

  /** Builder for {@link Registration}; not thread-safe. */
  public static final class Builder {
    private final String model;
    private final ArtifactSource source;
    private String description = "";
    private final Map<String, String> tags = new TreeMap<>();
    private Lineage lineage = Lineage.NONE;
    private Map<String, Tensor> inputExample;
    private final Map<String, byte[]> attachments = new TreeMap<>();
    private ManifestSignature manifestSignature;

    private Builder(String model, ArtifactSource source) {
      ModelRef.checkName(model);
      this.model = model;
      this.source = Objects.requireNonNull(source, "source");
    }

    /** Sets the description. */
    public Builder description(String description) {
      this.description = Objects.requireNonNull(description, "description");
      return this;
    }

    /** Adds a tag. */
    public Builder tag(String key, String value) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (key.isBlank()) {
        throw new IllegalArgumentException("tag key must not be blank");
      }
      tags.put(key, value);
      return this;
    }

    /** Sets the lineage. */
    public Builder lineage(Lineage lineage) {
      this.lineage = Objects.requireNonNull(lineage, "lineage");
      return this;
    }

    /** Sets the input example: one tensor per model input, checked against the signature. */
    public Builder inputExample(Map<String, Tensor> example) {
      if (example.isEmpty()) {
        throw new IllegalArgumentException("input example must name at least one input");
      }
      this.inputExample = new LinkedHashMap<>(example);
      return this;
    }

    /**
     * Stores an extra file with the version, such as a drift baseline or a model card. Names are
     * 1-64 letters, digits, '.', '_' or '-', not starting with '.', and portable (see {@link
     * ArtifactFile#unportableReason}: not {@code NUL.txt}, not ending in '.').
     */
    public Builder attachment(String name, byte[] content) {
      Objects.requireNonNull(content, "content");
      if (name == null || !name.matches("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")) {
        throw new IllegalArgumentException(
            "attachment name '"
                + name
                + "' is invalid: expected 1-64 letters, digits, '.', '_' or '-', not starting with '.'");
      }
      ArtifactFile.unportableReason(name)
          .ifPresent(
              why -> {
                throw new IllegalArgumentException("attachment name is refused: " + why);
              });
      attachments.put(name, content);
      return this;
    }

    /**
     * Attaches a detached signature over the artifact's file manifest (see {@link
     * ManifestSignature} for the signed bytes). The registry checks it against its trusted keys
     * according to its signature policy and stores it with the version.
     */
    public Builder manifestSignature(ManifestSignature signature) {
      this.manifestSignature = Objects.requireNonNull(signature, "signature");
      return this;
    }

    /** Builds the registration. */
    public Registration build() {
      return new Registration(this);
    }
  }
}
