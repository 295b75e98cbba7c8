package dev.mlops.api.spi;

import dev.mlops.api.AuditEntry;
import dev.mlops.api.ModelVersion;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What {@link ModelStore#insertVersion} stores for a new version: its record, its side files
 * (attachments, input example, manifest signature) and its audit entry.
 *
 * @param version the version record
 * @param files side files by name ({@code attachments/<name>}, {@link #INPUT_EXAMPLE}, {@link
 *     #MANIFEST_SIGNATURE}); the arrays must not be modified
 * @param audit the audit entry that records the registration
 */
public record NewVersion(ModelVersion version, Map<String, byte[]> files, AuditEntry audit) {

  /** The side file holding the input example, in the runtime's tensor format. */
  public static final String INPUT_EXAMPLE = "input-example.bin";

  /** The side file holding the manifest signature, as JSON. */
  public static final String MANIFEST_SIGNATURE = "signature.json";

  /** The prefix of attachments' side-file names. */
  public static final String ATTACHMENTS = "attachments/";

  /** Validates and copies the map. */
  public NewVersion {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(audit, "audit");
    files = java.util.Collections.unmodifiableMap(new TreeMap<>(files));
  }
}
