//! The grammar (`grammar/jitexpr.ebnf`) against the implementation.
//!
//! - every line of `grammar/examples/valid.txt` parses and compiles;
//! - every line of `grammar/examples/invalid.txt` fails to compile with the
//!   `ErrorKind` (and message fragment) written after it, with a span inside
//!   the line;
//! - the examples cover every operator token and every built-in function;
//! - precedence and associativity, as fully parenthesized parse trees;
//! - the nesting and length limits at their exact boundaries;
//! - the grammar file states the limits and the function table as they are.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::common::sig;
use jitexpr::internals::ir::builtins::FUNCTIONS;
use jitexpr::internals::syntax::ast::{ExprKind, Sexpr};
use jitexpr::internals::syntax::lexer::{Token, tokenize};
use jitexpr::internals::syntax::parser::MAX_SOURCE_LEN;
use jitexpr::{Error, ErrorKind};

/// a, b, c: float64; x, y: float32; i: int32; j: int64; m: bool.
fn grammar_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("grammar")
        .join(rel)
}

/// `(line number, line)` for every line that is neither blank nor a `#` comment.
fn example_lines(file: &str) -> Vec<(usize, String)> {
    let path = grammar_path(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| (n + 1, l.to_string()))
        .collect()
}

/// One line of `invalid.txt`: `EXPRESSION  ## KIND[: MESSAGE FRAGMENT]`.
struct Invalid {
    line_no: usize,
    expr: String,
    kind: String,
    fragment: Option<String>,
}

const MARK: &str = "  ## ";

fn invalid_examples() -> Vec<Invalid> {
    example_lines("examples/invalid.txt")
        .into_iter()
        .map(|(line_no, line)| {
            let at = line.rfind(MARK).unwrap_or_else(|| {
                panic!("invalid.txt:{line_no}: no `{MARK}KIND` annotation in {line:?}")
            });
            let expr = line[..at].to_string();
            let note = line[at + MARK.len()..].trim();
            let (kind, fragment) = match note.split_once(':') {
                Some((k, f)) => (k.trim(), Some(f.trim().to_string())),
                None => (note, None),
            };
            Invalid {
                line_no,
                expr,
                kind: kind.to_string(),
                fragment: fragment.filter(|f| !f.is_empty()),
            }
        })
        .collect()
}

fn kind_name(kind: ErrorKind) -> String {
    format!("{kind:?}")
}

fn describe(e: &Error) -> String {
    format!("{:?} {:?} {:?}", e.kind(), e.message(), e.span())
}

#[test]
fn valid_examples_parse_and_compile() {
    let lines = example_lines("examples/valid.txt");
    assert!(lines.len() >= 80, "only {} valid examples", lines.len());
    let failures: Vec<String> = {
        let sig = sig();
        let mut failures = Vec::new();
        for (n, line) in &lines {
            if let Err(e) = jitexpr::internals::syntax::parse(line) {
                failures.push(format!("valid.txt:{n}: parse `{line}`: {}", describe(&e)));
                continue;
            }
            if let Err(e) = jitexpr::compile(line, &sig) {
                failures.push(format!("valid.txt:{n}: compile `{line}`: {}", describe(&e)));
            }
        }
        failures
    };
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn invalid_examples_fail_with_the_expected_kind_and_span() {
    let examples = invalid_examples();
    assert!(
        examples.len() >= 50,
        "only {} invalid examples",
        examples.len()
    );
    let failures: Vec<String> = {
        let sig = sig();
        let mut failures = Vec::new();
        for ex in &examples {
            let Invalid {
                line_no: n,
                expr,
                kind,
                fragment,
            } = ex;
            let e = match jitexpr::compile(expr, &sig) {
                Ok(k) => {
                    failures.push(format!(
                        "invalid.txt:{n}: `{expr}` compiled (dtype {}); expected {kind}",
                        k.dtype()
                    ));
                    continue;
                }
                Err(e) => e,
            };
            let mut problems = Vec::new();
            if kind_name(e.kind()) != *kind {
                problems.push(format!("kind {:?}, expected {kind}", e.kind()));
            }
            if let Some(f) = fragment
                && !e.message().contains(f.as_str())
            {
                problems.push(format!("message lacks {f:?}"));
            }
            match e.span() {
                Some(s) if s.start <= s.end && s.end <= expr.len() => {}
                other => problems.push(format!("span {other:?} not inside 0..={}", expr.len())),
            }
            if e.source_text() != Some(expr.as_str()) {
                problems.push("error does not carry the expression text".into());
            }
            // Syntax and limit errors come from the front end, name and type
            // errors from name resolution and typing, after a successful parse.
            let parsed = jitexpr::internals::syntax::parse(expr);
            match e.kind() {
                ErrorKind::Syntax | ErrorKind::Limit => match &parsed {
                    Ok(_) => problems.push("syntax::parse accepted it".into()),
                    Err(pe) if pe.message() != e.message() || pe.span() != e.span() => {
                        problems.push(format!("syntax::parse gave {}", describe(pe)))
                    }
                    Err(_) => {}
                },
                ErrorKind::Name | ErrorKind::Type => {
                    if let Err(pe) = &parsed {
                        problems.push(format!("syntax::parse failed: {}", describe(pe)));
                    }
                }
                _ => {}
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "invalid.txt:{n}: `{expr}` gave {}: {}",
                    describe(&e),
                    problems.join("; ")
                ));
            }
        }
        failures
    };
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn valid_examples_use_every_operator_and_function() {
    let lines = example_lines("examples/valid.txt");
    let mut tokens = HashSet::new();
    let mut called = HashSet::new();
    {
        for (_, line) in &lines {
            for t in tokenize(line).expect("valid line lexes") {
                tokens.insert(t.token);
            }
            let ast = jitexpr::internals::syntax::parse(line).expect("valid line parses");
            for e in &ast.exprs {
                if let ExprKind::Call { func, .. } = &e.kind {
                    called.insert(func.clone());
                }
            }
        }
        use Token::*;
        let operators = [
            Plus, Minus, Star, StarStar, Slash, SlashSlash, Percent, Shl, Shr, Amp, Pipe, Caret,
            Tilde, Lt, Le, EqEq, Ne, Ge, Gt, LParen, RParen, Comma, Assign, Int, Float, Ident,
        ];
        let missing: Vec<_> = operators.iter().filter(|t| !tokens.contains(t)).collect();
        assert!(missing.is_empty(), "tokens never used: {missing:?}");
        let missing: Vec<_> = FUNCTIONS
            .iter()
            .map(|f| f.name)
            .filter(|name| !called.contains(*name))
            .collect();
        assert!(missing.is_empty(), "functions never called: {missing:?}");
    }
}

/// The fully parenthesized parse tree of `src`.
fn tree(src: &str) -> String {
    match jitexpr::internals::syntax::parse(src) {
        Ok(ast) => Sexpr(&ast, ast.root).to_string(),
        Err(e) => panic!("`{src}` does not parse: {}", describe(&e)),
    }
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        // `**` binds tighter than a prefix operator on its left ...
        ("-a**2", "(-(a ** 2))"),
        ("~i**2", "(~(i ** 2))"),
        ("+a**2", "(+(a ** 2))"),
        // ... and its right operand may start with one.
        ("2**-1", "(2 ** (-1))"),
        ("a**-b**c", "(a ** (-(b ** c)))"),
        ("a**-b*c", "((a ** (-b)) * c)"),
        ("-2**-1**2", "(-(2 ** (-(1 ** 2))))"),
        ("a**~i", "(a ** (~i))"),
        // `**` is right-associative, the others left-associative.
        ("a**b**c", "(a ** (b ** c))"),
        ("a-b-c", "((a - b) - c)"),
        ("a/b/c", "((a / b) / c)"),
        ("a//b%c*a/b", "((((a // b) % c) * a) / b)"),
        ("i<<1>>2", "((i << 1) >> 2)"),
        ("i|j|i", "((i | j) | i)"),
        // Levels, tightest first: ** > prefix > * / // % > + - > << >> > & > ^ > | > comparisons.
        ("-a*b", "((-a) * b)"),
        ("a*-b", "(a * (-b))"),
        ("a+b*c", "(a + (b * c))"),
        ("a*b+c", "((a * b) + c)"),
        ("i<<1+2", "(i << (1 + 2))"),
        ("i+1<<2", "((i + 1) << 2)"),
        ("i&j<<1", "(i & (j << 1))"),
        ("i^j&i", "(i ^ (j & i))"),
        ("a | b ^ c & d", "(a | (b ^ (c & d)))"),
        ("a < b | c", "(a < (b | c))"),
        ("a | b < c", "((a | b) < c)"),
        ("-a < b", "((-a) < b)"),
        ("~m == m", "((~m) == m)"),
        ("a + b == c * a", "((a + b) == (c * a))"),
        // Prefix operators stack.
        ("--a", "(-(-a))"),
        ("-~+a", "(-(~(+a)))"),
        // Parentheses.
        ("(a + b) * c", "((a + b) * c)"),
        ("(a < b) < c", "((a < b) < c)"),
        ("a < (b < c)", "(a < (b < c))"),
        ("(-a)**2", "((-a) ** 2)"),
        // Calls and keywords.
        ("sum(a, axis=-1)", "sum(a, axis=(-1))"),
        ("where(a > 0, -a**2, a)", "where((a > 0), (-(a ** 2)), a)"),
        ("sin(a,)", "sin(a)"),
        // Literals.
        ("1_000 + 0x1F + 0o17 + 0b101", "(((1000 + 31) + 15) + 5)"),
        ("1. + .5 + 1e-3 + 2E+2", "(((1.0 + 0.5) + 0.001) + 200.0)"),
    ];
    let mut failures = Vec::new();
    for (src, want) in cases {
        let got = tree(src);
        if got != want {
            failures.push(format!("`{src}`: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn comparisons_do_not_chain() {
    for (src, at) in [
        ("a < b < c", 6..7),
        ("a == b != c", 7..9),
        ("a < b | c < c", 10..11),
        ("sin(a <= b > c)", 11..12),
    ] {
        let e = jitexpr::internals::syntax::parse(src).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Syntax, "{src}");
        assert_eq!(
            e.message(),
            "chained comparisons are not supported",
            "{src}"
        );
        assert_eq!(e.span(), Some(at.into()), "{src}");
    }
}

#[test]
fn whitespace_between_any_tokens() {
    assert_eq!(tree(" a\t+\nb\r\n*\x0cc "), "(a + (b * c))");
    assert_eq!(tree("sin\n(\na\n,\n)"), "sin(a)");
    // Vertical tab is not whitespace.
    let e = jitexpr::internals::syntax::parse("a\x0b+ b").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.span(), Some((1..2).into()));
    for blank in ["", " ", "\n\t  "] {
        let e = jitexpr::internals::syntax::parse(blank).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Syntax);
        assert_eq!(e.message(), "empty expression");
    }
}

/// The nesting constructs, each nested `n` times around `a`.
fn nested(n: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "parentheses",
            format!("{}a{}", "(".repeat(n), ")".repeat(n)),
        ),
        ("prefix minus", format!("{}a", "-".repeat(n))),
        ("prefix tilde", format!("{}m", "~".repeat(n))),
        ("calls", format!("{}a{}", "sin(".repeat(n), ")".repeat(n))),
        ("right operands of **", format!("{}a", "a**".repeat(n))),
        (
            "keyword values",
            format!("{}0{}", "sum(a, axis=".repeat(n), ")".repeat(n)),
        ),
    ]
}

#[test]
fn nesting_is_bounded_only_by_the_length_limit() {
    // Each construct nested as deep as the length limit allows, on a
    // thread with a quarter of a default thread's stack.
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            for (what, one) in nested(1) {
                let n = (MAX_SOURCE_LEN - 1) / (one.len() - 1);
                let src = nested(n).into_iter().find(|(w, _)| *w == what).unwrap().1;
                assert!(src.len() <= MAX_SOURCE_LEN, "{what}");
                let ast = jitexpr::internals::syntax::parse(&src)
                    .unwrap_or_else(|e| panic!("{what} nested {n} times: {}", describe(&e)));
                // Parentheses make no node; every other construct does.
                let nodes = if what == "parentheses" { 1 } else { n + 1 };
                assert!(ast.exprs.len() >= nodes, "{what}");
            }
            // `a+(` nested: right operands inside parentheses.
            let n = (MAX_SOURCE_LEN - 1) / 4;
            let src = format!("{}a{}", "a+(".repeat(n), ")".repeat(n));
            let ast = jitexpr::internals::syntax::parse(&src).unwrap();
            assert_eq!(ast.exprs.len(), 2 * n + 1);
            // Over the length limit: the length error, whatever the nesting.
            let deep = format!("{}a{}", "(".repeat(200_000), ")".repeat(200_000));
            let e = jitexpr::compile(&deep, &sig()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Limit);
            assert!(e.message().contains("bytes long"));
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn left_associative_chains_are_not_nesting() {
    let src = vec!["a"; 20_000].join("+");
    let ast = jitexpr::internals::syntax::parse(&src).expect("a long chain parses");
    assert_eq!(ast.exprs.len(), 2 * 20_000 - 1);
    let src = vec!["i"; 5_000].join(" << ");
    assert!(jitexpr::internals::syntax::parse(&src).is_ok());
}

#[test]
fn source_length_limit_is_exact() {
    // Exactly MAX_SOURCE_LEN bytes: accepted (padding with whitespace).
    let mut src = String::from("a + b");
    src.push_str(&" ".repeat(MAX_SOURCE_LEN - src.len()));
    assert_eq!(src.len(), MAX_SOURCE_LEN);
    assert!(jitexpr::internals::syntax::parse(&src).is_ok());
    assert!(jitexpr::compile(&src, &sig()).is_ok());
    // One byte more: a Limit error, before lexing (so even garbage gets it).
    src.push(' ');
    let e = jitexpr::internals::syntax::parse(&src).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert_eq!(
        e.message(),
        format!(
            "expression is {} bytes long; the limit is {MAX_SOURCE_LEN}",
            MAX_SOURCE_LEN + 1
        )
    );
    let garbage = "$".repeat(MAX_SOURCE_LEN + 1);
    assert_eq!(
        jitexpr::compile(&garbage, &sig()).unwrap_err().kind(),
        ErrorKind::Limit
    );
}

#[test]
fn literal_forms() {
    let cases = [
        ("42", "42"),
        ("1_000_000", "1000000"),
        ("0", "0"),
        ("00", "0"),
        ("0_0", "0"),
        ("0x1F", "31"),
        ("0XfF", "255"),
        ("0o17", "15"),
        ("0O7", "7"),
        ("0b101", "5"),
        ("0B1", "1"),
        ("18446744073709551615", "18446744073709551615"),
        ("1.", "1.0"),
        (".5", "0.5"),
        ("1.5", "1.5"),
        ("1e-3", "0.001"),
        ("2E+2", "200.0"),
        ("1.e5", "100000.0"),
        (".5e1", "5.0"),
        ("1e400", "inf"),
        ("True", "True"),
        ("False", "False"),
        // Negative literals are negations.
        ("-5", "(-5)"),
    ];
    for (src, want) in cases {
        assert_eq!(tree(src), want, "{src}");
    }
}

#[test]
fn grammar_file_states_the_implementation() {
    let path = grammar_path("jitexpr.ebnf");
    let text = std::fs::read_to_string(&path).expect("grammar/jitexpr.ebnf");
    assert!(
        !text.contains("MAX_DEPTH"),
        "the grammar still states a nesting limit"
    );
    assert!(
        text.contains(&format!("MAX_SOURCE_LEN = {MAX_SOURCE_LEN} bytes")),
        "grammar does not state MAX_SOURCE_LEN = {MAX_SOURCE_LEN}"
    );
    let words: HashSet<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let missing: Vec<&str> = FUNCTIONS
        .iter()
        .map(|f| f.name)
        .filter(|n| !words.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "functions missing from the grammar: {missing:?}"
    );
    for f in FUNCTIONS {
        if !f.keywords.is_empty() {
            assert_eq!(
                f.keywords,
                ["axis"],
                "{}: grammar only documents axis=",
                f.name
            );
        }
    }
    // Comments in ISO EBNF cannot contain the comment delimiters.
    assert_eq!(
        text.matches("(*").count(),
        text.matches("*)").count(),
        "unbalanced (* *) in the grammar"
    );
}

// --- programs (section 5 of the grammar)

/// Each statement of a program as `target = tree` or `tree`.
fn statements(src: &str) -> Vec<String> {
    let p =
        jitexpr::internals::syntax::parse_program(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
    p.statements
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let ast = p.extract(s.value, |_| None);
            let tree = Sexpr(&ast, ast.root).to_string();
            assert_eq!(p.nodes(k).end, s.value.0 as usize + 1);
            match &s.target {
                Some(t) => {
                    assert_eq!(&src[t.span.start..t.span.end], t.name);
                    format!("{} = {tree}", t.name)
                }
                None => tree,
            }
        })
        .collect()
}

#[test]
fn programs_separate_statements_by_semicolons_and_line_breaks() {
    assert_eq!(
        statements("a = 1; b = a * 2\nb + 1"),
        ["a = 1", "b = (a * 2)", "(b + 1)"]
    );
    // Empty statements, blank lines and comment lines are skipped.
    assert_eq!(statements(";; a\n\n  # only a comment\n;b;"), ["a", "b"]);
    assert!(statements("").is_empty());
    assert!(statements("# nothing but a comment").is_empty());
    // `==` compares; `=` inside a call is a keyword argument.
    assert_eq!(statements("x = a == b"), ["x = (a == b)"]);
    assert_eq!(
        statements("r = random(3, 4, seed=1, dtype=float32)"),
        ["r = random(3, 4, seed=1, dtype=float32)"]
    );
    // A leading operator on a new line starts a new statement, as in Python.
    assert_eq!(statements("a\n-b"), ["a", "(-b)"]);
}

#[test]
fn programs_continue_inside_brackets_and_after_operators() {
    let src = "y = where(x > 0.5,  # keep the large ones (\n          x**2,\n          0)\nsum(y,\n axis=0)";
    assert_eq!(
        statements(src),
        ["y = where((x > 0.5), (x ** 2), 0)", "sum(y, axis=0)"]
    );
    assert_eq!(statements("y = a +\n  b *\n  c"), ["y = (a + (b * c))"]);
    assert_eq!(statements("y =\n  a"), ["y = a"]);
    // A `#` inside a string is no comment (the string is an error).
    let e = jitexpr::internals::syntax::parse_program("a = '#'").unwrap_err();
    assert_eq!(e.message(), "string literals are not supported");
}

#[test]
fn program_spans_are_bytes_of_the_whole_text() {
    let src = "a = 1\n# comment\nb = sin(a) + c";
    let p = jitexpr::internals::syntax::parse_program(src).unwrap();
    let b = &p.statements[1];
    assert_eq!(&src[b.span.start..b.span.end], "b = sin(a) + c");
    let value = p.get(b.value).span;
    assert_eq!(&src[value.start..value.end], "sin(a) + c");
    // Errors in a later statement point at the right byte of the original text.
    // The error's token is the last occurrence of `at` in the text.
    for (src, at, message) in [
        ("a = 1\nb = (a +\n  2))", ")", "unmatched `)`"),
        ("a = 1; b = a b", "b", "expected an operator, found a name"),
        (
            "a = 1\nb = a + 1 = 2",
            "=",
            "only a name can be assigned to",
        ),
        ("a = 1\nTrue = 2", "True", "cannot assign to `True`"),
        (
            "a = 1\nlambda = 2",
            "lambda",
            "`lambda` is a Python keyword",
        ),
        (
            "a = 1\nb = sin(a, axis=0, a)",
            "a",
            "positional argument follows",
        ),
        ("a = 1\nb = a < 2 < 3", "<", "chained comparisons"),
        ("a = 1\n\nb = a $ 2", "$", "unexpected character `$`"),
    ] {
        let e = jitexpr::internals::syntax::parse_program(src).unwrap_err();
        let start = src.rfind(at).unwrap();
        assert_eq!(
            e.span(),
            Some((start..start + at.len()).into()),
            "{src:?}: {e:?}"
        );
        assert!(e.message().contains(message), "{src:?}: {}", e.message());
    }
}

#[test]
fn plain_expressions_keep_their_language() {
    // `;` and assignments stay errors in an expression; comments are whitespace.
    let e = jitexpr::internals::syntax::parse("a; b").unwrap_err();
    assert_eq!(e.message(), "expected an operator, found `;`");
    let e = jitexpr::internals::syntax::parse("a = 1").unwrap_err();
    assert_eq!(e.message(), "assignment is not supported in an expression");
    assert_eq!(tree("a +  # more below\n b"), "(a + b)");
    let e = jitexpr::internals::syntax::parse("  # only a comment").unwrap_err();
    assert_eq!(e.message(), "empty expression");
    // A keyword argument a function does not take: the checker, at the keyword.
    let src = "sin(a, axis=1)";
    let e = jitexpr::compile(src, &sig()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Type);
    assert!(e.message().contains("keyword argument `axis`"), "{e:?}");
    assert_eq!(e.span(), Some((7..11).into()));
    // The reductions' axis= keeps working.
    let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    let r = jitexpr::evaluate(
        "sum(a, axis=1)  # per row",
        &jitexpr::Vars::new().with("a", &a),
    )
    .unwrap();
    assert_eq!(r.as_f64().unwrap().as_slice().unwrap(), &[3.0, 7.0]);
}

#[test]
fn incomplete_input_is_reported_by_the_parser() {
    use jitexpr::internals::syntax::{Incomplete, incomplete};
    for src in [
        "sin(a",
        "x = maximum(a,\n",
        "f(a, axis=",
        "(a +",
        "a = (1 +\n 2\n",
        "a = (1 + 2",
    ] {
        assert_eq!(incomplete(src), Some(Incomplete::OpenBracket), "{src:?}");
    }
    for src in ["a +", "x =", "a = 1; b = a *", "y = a **\n", "-"] {
        assert_eq!(incomplete(src), Some(Incomplete::Operand), "{src:?}");
    }
    for src in [
        "",
        "a + b",
        "a = 1; b = (a +\n 2)",
        "a + 1  # (",
        "a) +",
        "sin(a b",
        "'(' +",
        "[a,",
    ] {
        assert_eq!(incomplete(src), None, "{src:?}");
    }
}

#[test]
fn free_names_of_expressions_and_programs() {
    let names = |src: &str| jitexpr::free_names(src).unwrap();
    assert_eq!(names("sin(b) * a + pi * b - inf"), ["b", "a"]);
    assert_eq!(names("sum(x, axis=1) / where(m, y, nan)"), ["x", "m", "y"]);
    assert!(names("1 + 2").is_empty());
    // Assigned names are not free after their assignment; before it they are.
    assert_eq!(names("x = a + 1; y = x * x\nsum(y + c)"), ["a", "c"]);
    assert_eq!(names("x = x + 1; x"), ["x"]);
    assert_eq!(names("y = b; b = 1; b + y"), ["b"]);
    // A dtype name as a keyword value is not a variable.
    assert_eq!(names("zeros(3, dtype=float32) + k  # k is free"), ["k"]);
    // Errors carry the span and the text.
    let e = jitexpr::free_names("a + (b").unwrap_err();
    assert_eq!(e.message(), "unclosed `(`");
    assert!(e.render().contains("a + (b"), "{}", e.render());
}
