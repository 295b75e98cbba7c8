package dev.mlops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command tree itself: every command has help with an example, and usage errors are exit 2. */
class CommandLineTest {

  private static void collect(CommandLine cl, List<CommandLine> out) {
    out.add(cl);
    cl.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, out));
  }

  @Test
  void everyCommandHasHelpWithAnExample() {
    List<CommandLine> all = new ArrayList<>();
    collect(Main.newCommandLine(), all);
    List<String> names = new ArrayList<>();
    for (CommandLine cl : all) {
      String name = cl.getCommandSpec().qualifiedName();
      if (name.equals("mlops generate-completion")) {
        continue; // picocli's own
      }
      names.add(name);
      String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
      assertThat(usage).as(name).contains("Example").contains("-h, --help");
    }
    assertThat(names)
        .contains(
            "mlops register",
            "mlops models",
            "mlops versions",
            "mlops show",
            "mlops alias set",
            "mlops alias cas",
            "mlops alias delete",
            "mlops promote",
            "mlops rollback",
            "mlops archive",
            "mlops delete",
            "mlops verify",
            "mlops predict",
            "mlops diff",
            "mlops history",
            "mlops audit",
            "mlops rollout start",
            "mlops rollout status",
            "mlops rollout pause",
            "mlops rollout resume",
            "mlops rollout abort",
            "mlops rollout promote");
  }

  @Test
  void everyReadCommandHasJson() {
    for (String read :
        List.of("models", "versions", "show", "verify", "predict", "diff", "history", "audit")) {
      CommandLine cl = Main.newCommandLine().getSubcommands().get(read);
      assertThat(cl.getCommandSpec().findOption("--json")).as(read).isNotNull();
    }
    CommandLine rollout = Main.newCommandLine().getSubcommands().get("rollout");
    assertThat(rollout.getSubcommands().get("status").getCommandSpec().findOption("--json"))
        .isNotNull();
  }

  @Test
  void aMissingRegistryIsAUsageErrorNamingBothWays() {
    StringWriter err = new StringWriter();
    CommandLine cl = Main.newCommandLine();
    cl.setErr(new PrintWriter(err));
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getenv("MLOPS_REGISTRY") == null, "MLOPS_REGISTRY is set in this environment");
    int exit = cl.execute("models");
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString().strip())
        .isEqualTo(
            "error: expected the registry as --registry URI or in MLOPS_REGISTRY, but found"
                + " neither (see 'mlops models --help')");
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cl = Main.newCommandLine();
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("promte", "cancer", "3")).isEqualTo(2);
    assertThat(err.toString()).startsWith("error: Unmatched arguments from index 0: 'promte'");
  }
}
