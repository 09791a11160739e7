//! The `jitexpr` command line; see `jitexpr --help` and `jitexpr::cli`.

fn main() -> std::process::ExitCode {
    jitexpr::cli::main_with_args(std::env::args_os())
}
