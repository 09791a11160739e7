//! The `jitexpr` binary: every subcommand, every error path with its exit
//! code, and the guarantee that a failed run leaves no output file.

use assert_cmd::Command;
use predicates::prelude::*;

fn jitexpr() -> Command {
    let mut c = Command::cargo_bin("jitexpr").expect("binary");
    c.env("JITEXPR_NUM_THREADS", "2");
    c
}

#[test]
fn eval_prints_the_result_of_a_program() {
    jitexpr()
        .args([
            "eval",
            "a = random(1000, 100, seed=1); mean(sin(a)**2 + cos(a)**2)",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("1.0").and(predicate::str::contains("float64")));
}

#[test]
fn eval_with_number_inputs_and_constructors() {
    jitexpr()
        .args(["eval", "x = arange(5); sum(x * k)", "k=3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("30"));
}

/// `jitexpr eval PROGRAM` succeeds and its output contains `want`.
fn assert_eval_prints(program: &str, want: &str) {
    let out = jitexpr().args(["eval", program]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{program}: {out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(want),
        "{program}: {out:?}"
    );
}

/// Constructors take every dtype (NumPy short codes too), results print as NumPy's
/// `print()` (outputs pasted from NumPy 2.4: `np.arange(6, dtype=np.uint8) - 1`,
/// `np.ones(3, np.float16) / 3`, `np.full(3, 100, np.int8) * 2 + np.int8(1)`).
#[test]
fn eval_narrow_unsigned_and_half_dtypes() {
    for (program, want) in [
        (
            "x = arange(6, dtype=uint8); x - 1",
            "[255   0   1   2   3   4]\nshape=(6,), dtype=uint8",
        ),
        (
            "x = ones(3, dtype=f2); x / 3",
            "[0.3333 0.3333 0.3333]\nshape=(3,), dtype=float16",
        ),
        (
            "x = full(3, value=100, dtype=int8); x * 2 + int8(1)",
            "[-55 -55 -55]\nshape=(3,), dtype=int8",
        ),
    ] {
        assert_eval_prints(program, want);
    }
    let out = jitexpr()
        .args(["eval", "x = ones(3, dtype=u1); x + 300"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Python integer 300 out of bounds for uint8")
    );
}

#[test]
fn eval_programs_with_comments_lines_and_keyword_arguments() {
    let program = "x = linspace(0, 1, 5)  # five points (0 to 1\n\
                   y = where(x > 0.5,\n          x * 10,  # large ones\n          0)\n\
                   ; s = sum(y +\n full(5, value=1, dtype=int32))\ns";
    jitexpr()
        .args(["eval", program])
        .assert()
        .success()
        .stdout(predicate::str::contains("22.5"));
}

#[test]
fn eval_errors_point_into_the_line_of_the_statement() {
    // The caret diagnostic shows the fourth line, the unknown name underlined.
    let out = jitexpr()
        .args([
            "eval",
            "a = random(5, seed=1)  # five\nb = (a +\n  1)\nc = b * nope\nsum(c)",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":4:9"), "{err}");
    assert!(err.contains("4 | c = b * nope"), "{err}");
    assert!(err.contains("^^"), "{err}");
    // The hidden variables of constructors are never suggested.
    assert!(err.contains("the variables are: a, b"), "{err}");
    // A constructor's argument error points at the argument.
    let out = jitexpr()
        .args(["eval", "x = 1\ny = zeros(2, dtype=float33) + x"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown dtype `float33`") && err.contains(":2:20"),
        "{err}"
    );
}

#[test]
fn eval_writes_npy_and_never_leaves_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.npy");
    jitexpr()
        .args(["eval", "linspace(0, 1, 11) * 2", "--out"])
        .arg(&out)
        .assert()
        .success();
    let first = std::fs::read(&out).unwrap();
    assert!(first.starts_with(b"\x93NUMPY"));
    let back = jitexpr::cli::io::load_value(out.to_str().unwrap()).unwrap();
    assert_eq!(back.to_scalars()[10].to_f64(), 2.0);
    // A failing program must not touch the existing file.
    jitexpr()
        .args(["eval", "linspace(0, 1, 11) * nosuch", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown variable"));
    assert_eq!(std::fs::read(&out).unwrap(), first);
    // Nor leave a new one behind.
    let missing = dir.path().join("never.npy");
    jitexpr()
        .args(["eval", "1 +", "--out"])
        .arg(&missing)
        .assert()
        .code(1);
    assert!(!missing.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files left"
    );
}

#[test]
fn user_errors_exit_1_with_a_caret_diagnostic() {
    jitexpr()
        .args(["eval", "sin(a"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unclosed `(`").and(predicate::str::contains("sin(a")));
    jitexpr()
        .args(["eval", "a + 1", "a=nosuchfile.npy"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("nosuchfile.npy"));
    jitexpr()
        .args(["eval", "a = 1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no result"));
    jitexpr()
        .args(["eval", "zeros(1,1,1,1,1,1,1,1,2) + 1", "--backend", "gpu"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("GPU backend handles at most 8 dimensions")
                .or(predicate::str::contains("no GPU available")),
        );
    jitexpr()
        .args(["eval", "a + 1", "a"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NAME=VALUE"));
}

#[test]
fn usage_errors_exit_2() {
    jitexpr().args(["eval"]).assert().code(2);
    jitexpr().args(["frobnicate"]).assert().code(2);
    jitexpr()
        .args(["bench", "a", "--repeat", "many"])
        .assert()
        .code(2);
}

#[test]
fn no_panic_on_hostile_programs() {
    for p in [
        "((((",
        ")",
        "a = ",
        "= 3",
        ";;;",
        "random(-1)",
        "arange(0, 1, 0)",
        "zeros(1e3)",
        "é",
        "sum(x, axis=9)",
    ] {
        let out = jitexpr().args(["eval", p]).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(1)),
            "{p}: {:?}",
            out.status
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{p}"
        );
    }
}

/// The stdout of a successful `jitexpr bench ARGS`.
fn bench_stdout(args: &[&str]) -> String {
    let out = jitexpr().arg("bench").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bench_json_is_one_object_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    jitexpr()
        .args(["eval", "random(20000, seed=3)", "--out"])
        .arg(&a)
        .assert()
        .success();
    let text = bench_stdout(&[
        "a*2+1",
        &format!("a={}", a.display()),
        "unused=2",
        "--repeat",
        "5",
        "--json",
    ]);
    assert_eq!(text.trim_end().lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for key in [
        "ns_per_element",
        "median_s",
        "min_s",
        "compile_s",
        "first_compile_s",
        "optimized_compile_s",
        "eval_median_s",
        "evaluate_median_s",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
    }
    assert_eq!(v["n"], 20000);
    assert_eq!(v["backend"], "jit");
    assert!(v["threads"].as_u64().is_some_and(|t| t >= 1));
    assert!(v["min_s"].as_f64() <= v["median_s"].as_f64());
}

#[test]
fn bench_human_output() {
    jitexpr()
        .args([
            "bench",
            "k * 2",
            "k=4",
            "--repeat",
            "3",
            "--backend",
            "interp",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("ns/element").and(predicate::str::contains("interp")));
}

#[test]
fn bench_tiering_and_the_optimized_compile_time() {
    let json = |args: &[&str]| -> serde_json::Value {
        let base = ["k * 2 + 1", "k=4", "--repeat", "3", "--json"];
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        serde_json::from_str(&bench_stdout(&all)).unwrap()
    };
    for tiering in ["adaptive", "interpreted", "baseline", "optimized"] {
        let v = json(&["--tiering", tiering]);
        for key in ["optimized_compile_s", "baseline_compile_s", "first_call_s"] {
            assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
        }
        // The first call is the compile and one evaluation.
        assert!(v["first_call_s"].as_f64() >= v["compile_s"].as_f64(), "{v}");
    }
    // Only the JIT has tiers.
    let v = json(&["--backend", "interp"]);
    assert!(v["optimized_compile_s"].is_null() && v["baseline_compile_s"].is_null());
    jitexpr()
        .args(["bench", "k", "k=4", "--tiering", "sometimes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sometimes"));
}

#[test]
fn explain_shows_every_stage() {
    jitexpr()
        .args(["explain", "sum(x*2.0) + a", "x=float32[100]"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("== tokens")
                .and(predicate::str::contains("== AST"))
                .and(predicate::str::contains("input.f32 x"))
                .and(predicate::str::contains("== optimized IR"))
                .and(predicate::str::contains("== Cranelift IR, stage 1"))
                .and(predicate::str::contains("== times")),
        );
    jitexpr().args(["explain", "a +"]).assert().code(1);
}

/// `explain` says where a product is fused: into the final stage's store,
/// into a full sum (tile sums), or nowhere (kept whole).
#[test]
fn explain_shows_where_products_are_fused() {
    let shapes = ["A=float64[4,5]", "W=float64[5,6]", "y=float64[6]"];
    for (expr, says) in [
        (
            "maximum(A @ W + y, 0)",
            "fused into stage 1: each tile of the product computed and the stage run on it while in cache",
        ),
        (
            "sum((A @ W - y)**2)",
            "fused into stage 1: each tile of the product computed, the stage run on it and its values summed",
        ),
        ("max(A @ W) + A @ W", "kept whole"),
    ] {
        let mut args = vec!["explain", expr];
        args.extend(shapes);
        jitexpr()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains(says));
    }
}

/// `explain` of a complex expression shows the real programs of its split
/// (the product's fused multiply-add) and the kernels compiled for each
/// part; one the split declines says so (it was an internal error before).
#[test]
fn explain_shows_the_complex_split() {
    jitexpr()
        .args(["explain", "z*w", "z=complex128[4]", "w=complex128[4]"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("== complex split: real part")
                .and(predicate::str::contains("input.f64 imag(w)"))
                .and(predicate::str::contains("fma.f64 %0, %2, %5"))
                .and(predicate::str::contains("== complex split: imaginary part"))
                .and(predicate::str::contains(
                    "== Cranelift IR, complex part 0, stage 0",
                ))
                .and(predicate::str::contains(
                    "== Cranelift IR, complex part 1, stage 0",
                ))
                .and(predicate::str::contains(" fma.f64 ")),
        );
    jitexpr()
        .args(["explain", "sum(z)", "z=complex64[4]"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "(declined: complex `**`, a reduction of complex values",
        ));
}

/// `explain` of an expression nested 30,001 deep (a 120 KB argument: one
/// argument may not exceed 128 KiB): every stage prints, nothing recurses.
#[test]
fn explain_prints_a_deeply_nested_expression() {
    let n = 30_001;
    let expr = format!("{}a{}", "-(".repeat(n), ")".repeat(n));
    let a = jitexpr().args(["explain", "--", &expr]).assert().success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    // The AST, fully parenthesized.
    assert!(out.contains(&format!("\n{}a{}\n", "(-".repeat(n), ")".repeat(n))));
    // The typed IR has every negation; the optimized one, one (n is odd).
    assert!(out.contains(&format!("%{n} = neg.f64 %{}\nreturn %{n}", n - 1)));
    assert!(out.contains(&format!("({} -> 2 nodes)", n + 1)));
    assert!(out.contains("%1 = neg.f64 %0\nreturn %1"));
}

#[test]
fn info_lists_backends() {
    let a = jitexpr().arg("info").assert().success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(out.contains("jit") && out.contains("interp"), "{out}");
    // Every adapter line says whether it can run float64 and int64.
    let gpu: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("gpu"))
        .collect();
    assert!(!gpu.is_empty(), "{out}");
    for line in gpu {
        assert!(
            line.contains("no adapter found")
                || line.contains("not built")
                || (line.contains("| float64 ") && line.contains("| int64 ")),
            "{line}"
        );
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // `jitexpr eval ... | head -1`: the reader goes away; no panic, status 0.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_jitexpr"))
        .args(["eval", "x = arange(200000); where(x > 0, x, 0)"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Arguments that are not valid UTF-8, and sizes a user could mistype into
/// a hang or an abort, are usage errors (exit 2) with a message, never a
/// panic: `--repeat 18446744073709551615` panicked ("capacity overflow"),
/// `--threads 100000` and `JITEXPR_NUM_THREADS=100000` hung starting threads.
#[test]
fn bad_arguments_are_usage_errors_not_panics_or_hangs() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"a+\xff");
    let out = jitexpr()
        .args(["eval".as_ref(), bad, "a=1".as_ref()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("UTF-8"),
        "{out:?}"
    );
    for (args, says) in [
        (
            vec!["bench", "x*2", "x=2.0", "--repeat", "18446744073709551615"],
            "1 to 1000000",
        ),
        (
            vec!["bench", "x*2", "x=2.0", "--repeat", "0"],
            "1 to 1000000",
        ),
        (
            vec!["eval", "x*2", "x=2.0", "--threads", "100000"],
            "1 to 1024",
        ),
        (vec!["eval", "x*2", "x=2.0", "--threads", "0"], "1 to 1024"),
    ] {
        let out = jitexpr().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {out:?}"
        );
    }
    for env in ["100000", "abc", "0"] {
        let out = jitexpr()
            .env("JITEXPR_NUM_THREADS", env)
            .args(["eval", "x*2", "x=2.0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{env}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("JITEXPR_NUM_THREADS"),
            "{out:?}"
        );
    }
    // In range, they run.
    let out = jitexpr()
        .args(["eval", "x*2", "x=2.0", "--threads", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("4.0\n"),
        "{out:?}"
    );
}

/// A program may start with `-` (clap took `-a` for an unknown flag), and
/// an input name given twice is an error (the second silently won).
#[test]
fn leading_minus_programs_and_repeated_inputs() {
    let out = jitexpr()
        .args(["eval", "-a * 2", "a=1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("-3.0\n"),
        "{out:?}"
    );
    let out = jitexpr()
        .args(["bench", "-a", "a=1.5", "--repeat", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = jitexpr()
        .args(["eval", "a", "a=1", "a=2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("input `a` is given twice"),
        "{out:?}"
    );
}

/// `eval -f FILE` (and `-f -` for standard input) runs a program from a file;
/// the first positional argument is then an input.
#[test]
fn eval_reads_a_program_from_a_file_or_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let prog = dir.path().join("prog.jx");
    std::fs::write(&prog, "# a comment\nb = a * 2\nc = b + 1\nsum(c)\n").unwrap();
    let out = jitexpr()
        .args(["eval", "-f", prog.to_str().unwrap(), "a=1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("4.0\n"),
        "{out:?}"
    );
    let out = jitexpr()
        .args(["eval", "-f", "-", "a=2"])
        .write_stdin("a * 10")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("20\n"),
        "{out:?}"
    );
    let out = jitexpr()
        .args(["eval", "-f", "/nonexistent/prog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the program"),
        "{out:?}"
    );
    // Neither a program nor a file: a usage error.
    let out = jitexpr().args(["eval"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `bench` takes what `eval` takes: a program (the statements before the
/// last run once, the last is timed), constructors, `NAME=dtype[shape]`
/// inputs and `--file`.
#[test]
fn bench_takes_programs_constructors_and_made_up_inputs() {
    // The last statement is timed, over the placeholder's 5000 elements.
    let text = bench_stdout(&["x = a * 2; y = x + 1", "a=float32[5000]", "--repeat", "2"]);
    assert!(
        text.contains("program     2 statements; timed: the last, `y = x + 1`"),
        "{text}"
    );
    assert!(text.contains("elements    5000 "), "{text}");
    // A constructor in the timed statement is made once, as an input.
    let v: serde_json::Value = serde_json::from_str(&bench_stdout(&[
        "sum(random(3000, 2, seed=1)) + k",
        "k=1",
        "--repeat",
        "2",
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        (v["n"].as_u64(), v["statements"].as_u64()),
        (Some(6000), Some(1))
    );
    // Read from a file, or from standard input.
    let dir = tempfile::tempdir().unwrap();
    let prog = dir.path().join("prog.jx");
    std::fs::write(&prog, "# setup\nb = a * 2\nsqrt(b) + 1\n").unwrap();
    let text = bench_stdout(&[
        "-f",
        prog.to_str().unwrap(),
        "a=float64[7, 100]",
        "--repeat",
        "2",
    ]);
    assert!(text.contains("timed: the last, `sqrt(b) + 1`"), "{text}");
    assert!(text.contains("elements    700 "), "{text}");
    let out = jitexpr()
        .args(["bench", "-f", "-", "a=int32[10]", "--repeat", "2", "--json"])
        .write_stdin("a * 3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // User errors exit 1: an error in a setup statement, an empty program.
    let out = jitexpr()
        .args(["bench", "x = nope; x", "--repeat", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nope"),
        "{out:?}"
    );
    let out = jitexpr().args(["bench", "# nothing"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the program is empty"),
        "{out:?}"
    );
}

/// `NAME=dtype[shape]` makes an input of that dtype and shape (floats in
/// [0, 1), integers in 0..100), the same for `eval`, `bench` and `explain`.
#[test]
fn made_up_inputs_have_their_dtype_and_shape() {
    for (program, input, want) in [
        ("sum((a >= 0) & (a < 1))", "a=float32[4, 1_000]", "4000\n"),
        ("sum((n >= 0) & (n < 100))", "n=int64[50]", "50\n"),
        ("n", "n=int32[3]", "shape=(3,), dtype=int32"),
        ("b", "b=bool[2, 20]", "shape=(2, 20), dtype=bool"),
        ("a", "a=float64", "shape=(), dtype=float64"),
        ("a", "a=float32[]", "shape=(), dtype=float32"),
    ] {
        let out = jitexpr().args(["eval", program, input]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{program} {input}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(want), "{program} {input}: {stdout}");
    }
    // The same seed: the same values on every run.
    let run = || {
        jitexpr()
            .args(["eval", "a", "a=float64[5]"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
    // A malformed shape is a user error, the same in explain.
    for cmd in ["eval", "explain"] {
        let out = jitexpr()
            .args([cmd, "a + 1", "a=float64[10, x]"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a dtype and a shape"),
            "{cmd}: {out:?}"
        );
    }
    // Too large to make: a user error naming the size, not an abort.
    let out = jitexpr()
        .args(["eval", "a", "a=float64[1000000, 1000000]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

/// Without XDG_RUNTIME_DIR (a headless machine), opening the GPU printed
/// `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` twice
/// (libwayland-client, asked for a compositor by Mesa's Vulkan device-select
/// layer): `info`, `--backend gpu` and the REPL say nothing of it; `info`
/// ends with a newline.
#[test]
fn the_gpu_commands_say_nothing_of_xdg_runtime_dir() {
    // The directory put in its place is removed at exit.
    let tmp = tempfile::tempdir().unwrap();
    let quiet = |args: &[&str], stdin: &str| {
        let out = jitexpr()
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("WGPU_BACKEND")
            .env("TMPDIR", tmp.path())
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("XDG_RUNTIME_DIR"), "{args:?}: {err}");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let info = quiet(&["info"], "");
    assert!(info.ends_with('\n'), "{info:?}");
    quiet(&["eval", "--backend", "gpu", "sum(arange(10))"], "");
    quiet(&["repl"], ":backend gpu\n1 + 1\n");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The Vulkan backend alone (lavapipe), as a headless machine uses it.
    let out = jitexpr()
        .env_remove("XDG_RUNTIME_DIR")
        .env("WGPU_BACKEND", "vulkan")
        .arg("info")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
}

/// Complex constructors: `full(value=1.5-2j)` (NumPy's `np.full`, printed as
/// NumPy 2.4 prints it), `random(dtype=complex*)` (both parts uniform in
/// [0, 1), the same for a seed), and a complex value for a real dtype is an
/// error at the value.
#[test]
fn eval_complex_constructors() {
    for (program, want) in [
        (
            "full(3, value=1j)",
            "[0.+1.j 0.+1.j 0.+1.j]\nshape=(3,), dtype=complex128",
        ),
        (
            "full(2, value=1.5-2j, dtype=complex64)",
            "[1.5-2.j 1.5-2.j]\nshape=(2,), dtype=complex64",
        ),
        (
            "full(2, value=-(1+2j))",
            "[-1.-2.j -1.-2.j]\nshape=(2,), dtype=complex128",
        ),
        (
            "z = random(100000, seed=3, dtype=complex128); \
             (min(real(z)) >= 0) & (max(imag(z)) < 1) & (abs(mean(real(z)) - 0.5) < 0.01) \
             & (abs(mean(imag(z)) - 0.5) < 0.01) & (sum(real(z) == imag(z)) < 5)",
            "True\nshape=(), dtype=bool",
        ),
        (
            "a = random(4, seed=9, dtype=complex64); b = random(4, seed=9, dtype=complex64); all(a == b)",
            "True",
        ),
    ] {
        assert_eval_prints(program, want);
    }
    let out = jitexpr()
        .args(["eval", "full(2, value=1j, dtype=float64)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a complex `value` does not fit dtype=float64"),
        "{err}"
    );
}
