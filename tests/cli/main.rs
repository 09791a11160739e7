//! The `jitexpr` command line, one binary: subcommands and their errors
//! (`commands`), files (`io`), the REPL (`repl`).
#![cfg(feature = "cli")]

mod commands;
mod io;
mod repl;
