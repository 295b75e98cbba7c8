package dev.mlops.api;

import java.util.List;

/**
 * Thrown when a change would put a version in front of callers whose inputs or outputs it does not
 * serve: an alias move to a version whose signature is incompatible with the alias's current target
 * (see {@link ModelSignature#incompatibilities(ModelSignature, java.util.Collection)}). {@link
 * ModelRegistry#forceAlias} moves the alias anyway. Not a {@link ConflictException}: re-reading and
 * retrying does not help.
 */
public class IncompatibleSignatureException extends MlopsException {
  private static final long serialVersionUID = 1L;

  /** The differences, one line each. */
  private final List<String> differences;

  /**
   * Creates the exception.
   *
   * @param message what was refused and why, naming each difference
   * @param differences one line per difference
   */
  public IncompatibleSignatureException(String message, List<String> differences) {
    super(message);
    this.differences = List.copyOf(differences);
  }

  /** Each difference between the signatures, one line each. */
  public List<String> differences() {
    return differences;
  }
}
