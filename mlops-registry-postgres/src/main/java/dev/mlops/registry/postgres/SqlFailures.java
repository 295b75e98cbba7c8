package dev.mlops.registry.postgres;

import dev.mlops.api.PermissionDeniedException;
import dev.mlops.api.RegistryException;
import java.sql.SQLException;

/** The registry's exceptions for database failures, one wording for every store of the module. */
final class SqlFailures {

  /** SQLSTATE of a refused privilege: the role may not do this. */
  static final String INSUFFICIENT_PRIVILEGE = "42501";

  private SqlFailures() {}

  /**
   * A {@link RegistryException} naming what was being done, the server's message, the SQLSTATE and
   * what the failure leaves ({@code outcome}, e.g. "; nothing was changed"); a {@link
   * PermissionDeniedException} when the role lacks the privilege.
   */
  static RegistryException of(String what, SQLException e, String outcome) {
    if (INSUFFICIENT_PRIVILEGE.equals(e.getSQLState())) {
      return new PermissionDeniedException(
          "cannot "
              + what
              + ": the database role may not ("
              + e.getMessage()
              + ", SQLSTATE "
              + e.getSQLState()
              + ")"
              + outcome
              + "; a serving instance on the read-only role reads and follows the registry, and"
              + " changes need the writer role",
          e);
    }
    return new RegistryException(
        "cannot "
            + what
            + " in PostgreSQL: "
            + e.getMessage()
            + " (SQLSTATE "
            + e.getSQLState()
            + ")"
            + outcome,
        e);
  }
}
