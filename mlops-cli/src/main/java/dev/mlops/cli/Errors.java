package dev.mlops.cli;

import dev.mlops.api.MlopsException;

/** How an exception becomes the one line the CLI prints. */
final class Errors {

  private Errors() {}

  /** The exception's message on one line; its type too when it is not one of the tool's own. */
  static String oneLine(Throwable e) {
    Throwable t = e;
    // Unwrap plain wrappers that only repeat their cause.
    while ((t instanceof java.util.concurrent.ExecutionException
            || t instanceof java.util.concurrent.CompletionException
            || t instanceof java.lang.reflect.InvocationTargetException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    String message = t.getMessage() == null ? t.toString() : t.getMessage();
    if (t instanceof CliException || t instanceof MlopsException) {
      String type = t instanceof CliException ? "" : t.getClass().getSimpleName() + ": ";
      return type + flatten(message);
    }
    return t.getClass().getSimpleName() + ": " + flatten(message);
  }

  static String flatten(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
  }
}
