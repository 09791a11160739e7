//! `jitexpr repl`: scripts piped to stdin (statements, commands, errors and
//! the exit code), and one session through a pseudo-terminal (prompt, tab
//! completion, Ctrl-D).

use assert_cmd::Command;
use predicates::prelude::*;

fn repl(script: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("jitexpr")
        .expect("binary")
        .arg("repl")
        .env("JITEXPR_NUM_THREADS", "2")
        .write_stdin(script)
        .assert()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

#[test]
fn assignments_print_nothing_and_expressions_print_their_value() {
    repl("a = 2.5\nb = a * 4\n")
        .success()
        .stdout(predicate::str::is_empty());
    repl("a = 2.5\nb = a * 4\nb + 0.25\n")
        .success()
        .stdout(predicate::str::contains("10.25"));
}

#[test]
fn statements_separated_by_semicolons_each_print() {
    let a = repl("a = 3; b = 4; a * b; a + b\n").success();
    let out = stdout_of(&a);
    let (twelve, seven) = (out.find("12").expect(&out), out.find('7').expect(&out));
    assert!(twelve < seven, "{out}");
}

#[test]
fn lines_are_joined_while_brackets_are_open() {
    let a = repl(
        "x = (1 +\n     2 +\n     3)   # six\n# a comment line\nmaximum(x,\n        5) * 10\n",
    )
    .success();
    assert!(stdout_of(&a).contains("60"), "{}", stdout_of(&a));
}

#[test]
fn lines_are_joined_after_an_operator_until_an_empty_line() {
    // `a +` goes on to the next line; `# (` is a comment, not a bracket.
    let a = repl("a = 40 +  # (\n  2\na\n").success();
    assert!(stdout_of(&a).contains("42"), "{}", stdout_of(&a));
    // An empty line after a dangling operator runs it: the error, then the rest.
    let a = repl("b = 1 +\n\n7 * 6\n")
        .code(1)
        .stderr(predicate::str::contains("expected an expression after `+`"));
    assert!(stdout_of(&a).contains("42"), "{}", stdout_of(&a));
    // A syntax error in a line runs none of its statements.
    let a = repl("c = 5; d = (c +) \nc\n").code(1);
    assert!(!stdout_of(&a).contains('5'), "{}", stdout_of(&a));
}

#[test]
fn statement_commands_span_lines_and_evaluate_constructors() {
    let a = repl(":time y = sqrt(\n  random(1000, seed=1))\n:explain sum(random(3,\n  seed=2))  # a comment\ny.shape\n")
        .code(1);
    let out = stdout_of(&a);
    assert!(out.contains("(1000 elements"), "{out}");
    assert!(out.contains("sum(random(3, seed=2))"), "{out}");
    assert!(out.contains("input.f64 random@"), "{out}");
}

#[test]
fn vars_lists_name_dtype_shape_and_bytes() {
    let a = repl("z = zeros(2, 3, dtype=float32)\nn = arange(4)\n:vars\n").success();
    let out = stdout_of(&a);
    let header = out.lines().find(|l| l.starts_with("name")).expect(&out);
    for col in ["dtype", "shape", "bytes"] {
        assert!(header.contains(col), "{out}");
    }
    let z = out.lines().find(|l| l.starts_with("z ")).expect(&out);
    assert!(
        z.contains("float32") && z.contains("(2, 3)") && z.trim_end().ends_with("24"),
        "{z}"
    );
    let n = out.lines().find(|l| l.starts_with("n ")).expect(&out);
    assert!(
        n.contains("int64") && n.contains("(4,)") && n.trim_end().ends_with("32"),
        "{n}"
    );
}

#[test]
fn save_and_load_round_trip_through_npy_and_npz() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!(
        "a = linspace(0, 1, 11)\nb = arange(3)\n:save a {d}/a.npy\n:save a b {d}/ab.npz\n\
         :load c {d}/a.npy\n:load e {d}/ab.npz:b\nsum(a == c) * 1000 + sum(e)\n"
    );
    let a = repl(&script).success();
    let out = stdout_of(&a);
    assert!(out.contains("11003"), "{out}");
    assert!(dir.path().join("a.npy").exists() && dir.path().join("ab.npz").exists());
}

#[test]
fn load_of_a_missing_file_is_an_error_and_the_session_goes_on() {
    repl(":load x /nonexistent/dir/x.npy\n1 + 1\n")
        .code(1)
        .stderr(predicate::str::contains("x.npy"))
        .stdout(predicate::str::contains("2"));
}

#[test]
fn time_reports_compile_and_run_times() {
    let a = repl(":time sum(sin(random(100000)))\n:time y = sqrt(random(1000))\n:vars\n").success();
    let out = stdout_of(&a);
    let re = predicate::str::is_match(
        r"compile [0-9.]+ (s|ms|µs)( \(cached\))?, run [0-9.]+ (s|ms|µs) \(100000 elements, [0-9.]+ ns/element\)",
    )
    .unwrap();
    assert!(re.eval(&out), "{out}");
    assert!(out.contains("(1000 elements"), "{out}");
    // `:time y = ...` assigns.
    assert!(
        out.lines()
            .any(|l| l.starts_with("y ") && l.contains("(1000,)")),
        "{out}"
    );
}

#[test]
fn explain_shows_ir_before_and_after_optimization() {
    let a = repl("a = random(10, dtype=float32)\n:explain sin(a)**2 + cos(a)**2\n").success();
    let out = stdout_of(&a);
    assert!(out.contains("IR"), "{out}");
    assert!(out.contains("input.f32 a"), "{out}");
    assert!(out.contains("optimized"), "{out}");
}

#[test]
fn help_is_an_overview_with_topics() {
    // The overview is short: the commands and where to find the rest.
    let out = stdout_of(&repl(":help\n").success());
    assert!(
        out.lines().count() <= 25,
        "{} lines:\n{out}",
        out.lines().count()
    );
    for word in [":vars", ":plot", ":help functions", ":help constructors"] {
        assert!(out.contains(word), "{word} missing from\n{out}");
    }
    assert!(!out.contains("log1p"), "{out}");
    // The topics have the details.
    let out = stdout_of(&repl(":help functions\n:help constructors\n:help constants\n").success());
    for word in [
        "arctan2(x1, x2)",
        "log1p",
        "linspace",
        "random",
        "pi =",
        "float32",
    ] {
        assert!(out.contains(word), "{word} missing from\n{out}");
    }
    let out = stdout_of(&repl(":help arctan2\n:help :time\n").success());
    assert!(
        out.contains("arctan2(x1, x2)") && out.contains(":time EXPR"),
        "{out}"
    );
    repl(":help nosuchthing\n:help functons\n")
        .code(1)
        .stderr(predicate::str::contains("no help"))
        .stderr(predicate::str::contains("did you mean `functions`?"));
}

#[test]
fn explain_shows_the_active_backends_code_or_all() {
    let out = stdout_of(&repl("a = random(10)\n:explain a * 2\n").success());
    assert!(out.contains("== Cranelift IR, stage 0"), "{out}");
    assert!(!out.contains("== WGSL"), "{out}");
    assert!(out.contains(":explain --all a * 2"), "{out}");
    let out = stdout_of(&repl("a = random(10)\n:explain --all a * 2\n").success());
    assert!(
        out.contains("== Cranelift IR") && out.contains("== WGSL"),
        "{out}"
    );
    // The interpreter runs the IR: no backend code.
    let out = stdout_of(&repl(":backend interp\na = random(10)\n:explain a * 2\n").success());
    assert!(out.contains("== optimized IR"), "{out}");
    assert!(
        !out.contains("Cranelift IR") && !out.contains("WGSL"),
        "{out}"
    );
    repl(":explain --all\n")
        .code(1)
        .stderr(predicate::str::contains("usage: :explain"));
}

#[test]
fn plot_draws_a_chart_of_a_1d_result() {
    let a = repl(":plot linspace(0, 1, 20)\n:plot sin(linspace(0, 6.28, 200))\n").success();
    let out = stdout_of(&a);
    assert!(out.lines().count() >= 10, "{out}");
    assert!(
        out.chars().any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)),
        "{out}"
    );
}

#[test]
fn plot_rejects_non_1d_and_empty_results() {
    repl(":plot zeros(2, 2)\n")
        .code(1)
        .stderr(predicate::str::contains("1-D"));
    repl(":plot arange(0)\n")
        .code(1)
        .stderr(predicate::str::contains("empty"));
}

#[test]
fn errors_show_carets_continue_and_exit_with_1() {
    let a = repl("a = 1\nsinn(a)\na + 41\n")
        .code(1)
        .stderr(predicate::str::contains("sinn").and(predicate::str::contains("^")))
        .stderr(predicate::str::contains("did you mean `sin`"));
    assert!(stdout_of(&a).contains("42"));
}

#[test]
fn an_error_skips_the_rest_of_its_line_only() {
    let a = repl("a = 1; b = nope; a = 100\na + 1\n").code(1);
    let out = stdout_of(&a);
    assert!(out.contains('2') && !out.contains("101"), "{out}");
}

#[test]
fn backend_gpu_reports_what_it_cannot_run_and_interp_works() {
    // Nine dimensions are beyond the GPU backend (or there is no adapter): a clear error.
    let a = repl(":backend gpu\nzeros(1,1,1,1,1,1,1,1,2) + 1\n:backend interp\n:backend\n2 * 21\n")
        .code(1)
        .stderr(
            predicate::str::contains("GPU backend handles at most 8 dimensions")
                .or(predicate::str::contains("no GPU available")),
        );
    let out = stdout_of(&a);
    assert!(
        out.contains("backend: gpu") && out.contains("backend: interp") && out.contains("42"),
        "{out}"
    );
}

#[test]
fn threads_sets_the_worker_count() {
    repl(":threads 3\nsum(ones(1000))\n")
        .success()
        .stdout(predicate::str::contains("threads: 3").and(predicate::str::contains("1000")));
    repl(":threads zero\n").code(1);
}

#[test]
fn unknown_commands_list_the_commands() {
    repl(":frobnicate\n:varss\n")
        .code(1)
        .stderr(predicate::str::contains("unknown command `:frobnicate`"))
        .stderr(predicate::str::contains(":vars"))
        .stderr(predicate::str::contains("did you mean `:vars`"));
}

#[test]
fn quit_stops_the_script() {
    let a = repl("111\n:quit\n222\n").success();
    let out = stdout_of(&a);
    assert!(out.contains("111") && !out.contains("222"), "{out}");
}

#[test]
fn an_empty_script_succeeds() {
    repl("").success().stdout(predicate::str::is_empty());
}

/// `jitexpr repl` in a pseudo-terminal (history in `dir`, 2 threads, an
/// xterm, `adjust` applied to the command), expecting within 60 s; `None`,
/// with a notice, where there is no pseudo-terminal.
#[cfg(unix)]
fn pty_repl(
    dir: &tempfile::TempDir,
    adjust: impl FnOnce(&mut std::process::Command),
) -> Option<expectrl::session::OsSession> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jitexpr"));
    cmd.arg("repl")
        .env("JITEXPR_HISTORY", dir.path().join("history"))
        .env("JITEXPR_NUM_THREADS", "2")
        .env("TERM", "xterm");
    adjust(&mut cmd);
    match expectrl::Session::spawn(cmd) {
        Ok(mut p) => {
            p.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
            Some(p)
        }
        Err(e) => {
            eprintln!("skipping the terminal test: no pseudo-terminal ({e})");
            None
        }
    }
}

/// Through a pseudo-terminal: the prompt, Tab completing `arct` to `arctan`,
/// and Ctrl-D leaving with status 0. Skipped (with a notice) without a pty.
#[cfg(unix)]
#[test]
fn terminal_session_completes_names_and_exits_on_ctrl_d() {
    use expectrl::{ControlCode, Expect};

    let dir = tempfile::tempdir().unwrap();
    let Some(mut p) = pty_repl(&dir, |cmd| {
        cmd.env_remove("NO_COLOR");
    }) else {
        return;
    };
    p.expect(">>> ").expect("prompt");
    // `arct` + Tab completes to the common prefix `arctan` of arctan, arctan2, arctanh.
    p.send("arct").unwrap();
    p.send("\t").unwrap();
    p.expect("arctan").expect("completion");
    p.send("(1.0) * 4\r").unwrap();
    p.expect("3.14159").expect("the value of arctan(1.0) * 4");
    p.expect(">>> ").expect("prompt after the value");
    p.send(ControlCode::EndOfTransmission).unwrap();
    let status = p.get_process().wait().expect("wait");
    let status = format!("{status:?}");
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}"
    );
    let history = std::fs::read_to_string(dir.path().join("history")).unwrap_or_default();
    assert!(history.contains("arctan(1.0) * 4"), "history: {history:?}");
}

/// Through a pseudo-terminal: an unfinished line gets the `... ` prompt;
/// the spinner of a long evaluation is gone after Ctrl-C cancels it (it
/// filled the terminal's width, so the echoed `^C` wrapped to a new line
/// and the spinner stayed above it); `:time` of a trivial expression does
/// not pay a thread or a polling loop (it said "run 20.14 ms"). Skipped
/// (with a notice) without a pty.
#[cfg(unix)]
#[test]
fn terminal_session_continues_lines_cancels_cleanly_and_times_fast() {
    use expectrl::{ControlCode, Expect, Regex};

    let dir = tempfile::tempdir().unwrap();
    let Some(mut p) = pty_repl(&dir, |_| {}) else {
        return;
    };
    p.expect(">>> ").expect("prompt");
    p.send("x = (1 +\r").unwrap();
    p.expect("... ").expect("the continuation prompt");
    p.send("  2)\r").unwrap();
    p.expect(">>> ")
        .expect("a new prompt once the input is complete");
    p.send("x * 10\r").unwrap();
    p.expect("30").expect("the value of the two-line statement");
    // The multi-line input is one history entry.
    p.expect(">>> ").unwrap();
    // A trivial `:time` on a terminal: well under the 20 ms it once took.
    let mut runs = Vec::new();
    for _ in 0..3 {
        p.send(":time 1 + 1\r").unwrap();
        let m = p.expect(Regex(r"run ([0-9.]+) (s|ms|µs)")).unwrap();
        let value: f64 = String::from_utf8_lossy(m.get(1).unwrap()).parse().unwrap();
        let unit = String::from_utf8_lossy(m.get(2).unwrap()).into_owned();
        runs.push(
            value
                * if unit == "s" {
                    1e3
                } else if unit == "ms" {
                    1.0
                } else {
                    1e-3
                },
        );
        p.expect(">>> ").unwrap();
    }
    let fastest = runs.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(fastest < 10.0, "`:time 1 + 1` ran in {runs:?} ms");
    // A long evaluation on the interpreter: its spinner, Ctrl-C, the error.
    p.send(":backend interp\r").unwrap();
    p.expect(">>> ").unwrap();
    p.send("sum(sin(random(3000, 10000)) + sin(random(3000, 10000)))\r")
        .unwrap();
    p.expect("evaluating").expect("the spinner after a second");
    p.send(ControlCode::EndOfText).unwrap();
    let m = p.expect("evaluation cancelled").expect("the cancel error");
    // What followed the last `evaluating` drawn (the first was matched above).
    let before = String::from_utf8_lossy(m.before()).into_owned();
    let after = match before.rfind("evaluating") {
        Some(last) => &before[last + "evaluating".len()..],
        None => &before,
    };
    assert!(
        !after.starts_with("  "),
        "the spinner's line is padded to the terminal's width: {after:?}"
    );
    assert!(
        after.contains("\r\x1b[2K"),
        "the spinner is not cleared: {after:?}"
    );
    p.expect(">>> ").expect("the session goes on");
    p.send(ControlCode::EndOfTransmission).unwrap();
    let history = {
        let _ = p.get_process().wait();
        std::fs::read_to_string(dir.path().join("history")).unwrap_or_default()
    };
    assert!(history.contains("x = (1 +"), "history: {history:?}");
}
