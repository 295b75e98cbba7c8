package dev.mlops.cli;

/**
 * A failure the command line reports as one line on stderr with exit code 1: bad input files,
 * refused checks. Its message says what was expected and what was found.
 */
final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }

  CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
