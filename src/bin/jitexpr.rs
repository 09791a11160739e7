//! The `jitexpr` command line (a minimal evaluator until the full CLI lands).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, expr] if cmd == "eval" => match jitexpr::evaluate(expr, &jitexpr::Vars::new()) {
            Ok(result) => {
                println!("{result:?}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", e.render());
                ExitCode::from(1)
            }
        },
        _ => {
            eprintln!("usage: jitexpr eval EXPR");
            ExitCode::from(2)
        }
    }
}
