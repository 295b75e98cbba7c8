package dev.mlops.cli;

import picocli.CommandLine;

/**
 * Entry point of the {@code mlops} command line: runs one command and exits with its code (0 ok, 1
 * failure, 2 usage).
 */
public final class Main {

  private Main() {}

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code, without exiting. */
  public static int run(String... args) {
    boolean verbose = false;
    for (String a : args) {
      if (a.equals("--verbose") || a.equals("-v")) {
        verbose = true;
      }
    }
    // The CLI's own output is what it prints; library logging only when something is wrong.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    return newCommandLine().execute(args);
  }

  /** The command line with this tool's error handling: one line per error, the stack on demand. */
  static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new MlopsCommand());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          boolean verbose = parsed.hasMatchedOption("--verbose");
          cmd.getErr().println("error: " + Errors.oneLine(ex));
          if (verbose) {
            ex.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return CommandLine.ExitCode.SOFTWARE;
        });
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine cmd = ex.getCommandLine();
          cmd.getErr()
              .println(
                  "error: "
                      + Errors.flatten(ex.getMessage())
                      + " (see '"
                      + cmd.getCommandSpec().qualifiedName()
                      + " --help')");
          cmd.getErr().flush();
          return CommandLine.ExitCode.USAGE;
        });
    return cl;
  }
}
