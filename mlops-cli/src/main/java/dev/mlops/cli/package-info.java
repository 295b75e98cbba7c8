/**
 * The {@code mlops} command line: picocli commands over a {@link
 * dev.mlops.runtime.registry.GovernedRegistry} opened by URI (a directory or {@code file:} URI, a
 * {@code postgresql:} URI). {@link dev.mlops.cli.Main} is the entry point of the executable jar;
 * everything else is package-private. Output is for people (tables) or, with {@code --json}, for
 * scripts (one line of JSON with stable field names); exit codes are 0 ok, 1 failure, 2 usage.
 */
package dev.mlops.cli;
