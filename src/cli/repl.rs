//! `jitexpr repl`: the interactive session.
//!
//! On a terminal it is a line editor (history, tab completion; while the
//! parser finds the input incomplete it reads more lines at the `... `
//! prompt); otherwise stdin is read
//! as a script and run line by line, lines joined the same way. Either way each input is a program of statements
//! (`name = expr` or `expr`, separated by `;` or newlines) or a `:command`.
//! The value of every expression statement is printed; errors are printed with
//! carets and the session goes on. A script exits with 1 if anything failed.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use crate::cli::program::{self, CONSTRUCTORS, Session, Source};
use crate::cli::{explain, io, print};
use crate::error::{Error, ErrorKind, Result};
use crate::ir::builtins;
use crate::ir::graph::Node;
use crate::syntax::{Incomplete, incomplete};
use crate::{Array, Backend, DType, Options, Signature};

/// The commands, with their arguments and a one-line description.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        "vars",
        "",
        "list the session's arrays: name, dtype, shape, bytes",
    ),
    (
        "load",
        "NAME FILE",
        "load FILE.npy, DATA.npz:MEMBER or a number into NAME",
    ),
    (
        "save",
        "NAME FILE",
        "save NAME to a .npy, .npz or .csv file (by extension)",
    ),
    (
        "time",
        "EXPR",
        "compile and run time of EXPR (`:time x = EXPR` also assigns)",
    ),
    (
        "explain",
        "[--all] EXPR",
        "tokens, AST, IR, the backend's code (--all: every backend's)",
    ),
    ("backend", "[jit|interp|gpu]", "show or set the backend"),
    ("threads", "[N]", "show or set the number of worker threads"),
    (
        "plot",
        "EXPR",
        "draw a 1-D result as a line chart (x = index)",
    ),
    (
        "help",
        "[TOPIC]",
        "an overview; :help functions, constructors, NAME, ...",
    ),
    ("quit", "", "leave (also :exit or Ctrl-D)"),
];

/// Runs the session: interactive on a terminal, a script from stdin otherwise.
pub fn run(options: Options) -> ExitCode {
    let repl = Repl {
        session: Session::new(options),
    };
    if std::io::stdin().is_terminal() {
        interactive(repl)
    } else {
        script(repl)
    }
}

/// What to do after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

struct Repl {
    session: Session,
}

/// Writes to stdout, ignoring errors (a closed pipe must not panic).
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

fn script(mut repl: Repl) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        super::report(&Error::new(
            ErrorKind::Value,
            format!("cannot read the script from stdin: {e}"),
        ));
        return ExitCode::from(1);
    }
    let (ok, _) = repl.run_input(&text);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn interactive(mut repl: Repl) -> ExitCode {
    // While a line is read the terminal is raw (Ctrl-C is a key, handled by
    // rustyline); during an evaluation Ctrl-C is SIGINT: cancel the evaluation
    // instead of killing the session.
    let _ = ctrlc::set_handler(super::cancel_current);
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .history_ignore_dups(true)
        .and_then(|b| b.max_history_size(10_000))
        .map(|b| b.build());
    let editor = config.and_then(Editor::<ReplHelper, DefaultHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("jitexpr: no line editor ({e}); reading a script from stdin");
            return script(repl);
        }
    };
    rl.set_helper(Some(ReplHelper {
        vars: Vec::new(),
        files: FilenameCompleter::new(),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = rl.load_history(path);
    }
    emit(&format!(
        "jitexpr {} ({} backend, {} threads). :help for help, Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION"),
        backend_name(repl.session.options.backend),
        crate::num_threads()
    ));
    // The input read so far: lines are added at the continuation prompt
    // while it [`needs_more`].
    let mut pending = String::new();
    loop {
        if let Some(helper) = rl.helper_mut() {
            helper.vars = repl.session.vars.keys().cloned().collect();
        }
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION_PROMPT
        };
        match rl.readline(prompt) {
            Ok(line) => {
                if pending.is_empty() && line.trim().is_empty() {
                    continue;
                }
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(&line);
                if needs_more(&pending) {
                    continue;
                }
                let input = std::mem::take(&mut pending);
                // The whole input is one history entry (Up brings it back,
                // all its lines, to edit and run again).
                if rl.add_history_entry(input.as_str()).unwrap_or(false)
                    && let Some(path) = &history
                {
                    let _ = rl.append_history(path);
                }
                if repl.run_input(&input).1 == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C while typing drops the unfinished input.
                pending.clear();
                emit("^C");
            }
            Err(ReadlineError::Eof) => {
                // Ctrl-D runs an unfinished input (its error says what is
                // missing), as the end of a script does, then leaves.
                if !pending.trim().is_empty() {
                    repl.run_input(&pending);
                }
                break;
            }
            Err(e) => {
                eprintln!("jitexpr: cannot read input: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// `$JITEXPR_HISTORY`, else `$XDG_STATE_HOME/jitexpr/history`, else `~/.jitexpr_history`.
fn history_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = var("JITEXPR_HISTORY") {
        return Some(path.into());
    }
    if let Some(state) = var("XDG_STATE_HOME") {
        let dir = PathBuf::from(state).join("jitexpr");
        let _ = std::fs::create_dir_all(&dir);
        return Some(dir.join("history"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".jitexpr_history"))
}

/// The prompt of a new input.
const PROMPT: &str = ">>> ";

/// The prompt of the next line of an input that [`needs_more`].
const CONTINUATION_PROMPT: &str = "... ";

/// The commands whose argument is a statement: multi-line like the programs.
const STATEMENT_COMMANDS: &[&str] = &["time", "explain", "plot"];

/// Whether `text` (one or more lines) needs another line: the parser finds it
/// [`incomplete`] inside an open `(`, or after an operator unless the last
/// line is blank (an empty line then runs it, and reports the error). For a
/// command, its argument counts if the command takes a statement.
fn needs_more(text: &str) -> bool {
    let body = match text.trim_start().strip_prefix(':') {
        Some(command) => {
            let (name, rest) = command
                .split_once(char::is_whitespace)
                .unwrap_or((command, ""));
            if !STATEMENT_COMMANDS.contains(&name) {
                return false;
            }
            rest
        }
        None => text,
    };
    match incomplete(body) {
        None => false,
        Some(Incomplete::OpenBracket) => true,
        Some(Incomplete::Operand) => !text
            .rsplit('\n')
            .next()
            .is_some_and(|last| last.trim().is_empty()),
    }
}

/// Groups lines into inputs: a line is joined to the previous ones while
/// they [`needs_more`]; blank lines between inputs are dropped.
fn chunks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        if pending.is_empty() && line.trim().is_empty() {
            continue;
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        if !needs_more(&pending) {
            out.push(std::mem::take(&mut pending));
        }
    }
    if !pending.trim().is_empty() {
        out.push(pending);
    }
    out
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Jit => "jit",
        Backend::Interpreter => "interp",
        _ => "gpu",
    }
}

fn format_shape(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn format_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-5 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// `~` or `~/…` at the start of a path as the home directory, as a shell
/// would expand it (`:save x ~/out.npy`); anything else unchanged.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    }
}

fn usage(command: &str) -> Error {
    let (name, args, _) = COMMANDS
        .iter()
        .find(|(c, _, _)| *c == command)
        .copied()
        .unwrap_or((command, "", ""));
    Error::new(ErrorKind::Value, format!("usage: :{name} {args}"))
}

/// Checks that `name` can hold an array.
fn check_name(name: &str) -> Result<()> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
    if !valid {
        return Err(Error::new(
            ErrorKind::Value,
            format!("`{name}` is not a valid variable name"),
        ));
    }
    if builtins::lookup(name).is_some() || CONSTRUCTORS.iter().any(|(c, _)| *c == name) {
        return Err(Error::new(
            ErrorKind::Name,
            format!("cannot assign to `{name}`: it is a function"),
        )
        .with_help("choose another name"));
    }
    Ok(())
}

impl Repl {
    /// Runs an input of one or more lines; returns whether everything
    /// succeeded and whether to go on.
    fn run_input(&mut self, text: &str) -> (bool, Flow) {
        let mut ok = true;
        for chunk in chunks(text) {
            let trimmed = chunk.trim();
            if let Some(command) = trimmed.strip_prefix(':') {
                match self.command(command) {
                    Ok(Flow::Quit) => return (ok, Flow::Quit),
                    Ok(Flow::Continue) => {}
                    Err(e) => {
                        super::report(&e);
                        ok = false;
                    }
                }
                continue;
            }
            let source = match Source::parse(&chunk) {
                Ok(source) => source,
                Err(e) => {
                    super::report(&e);
                    ok = false;
                    continue;
                }
            };
            // Like a Python line: an error skips the rest of the input.
            for k in 0..source.program.statements.len() {
                let session = &mut self.session;
                match super::with_progress(|| session.execute(&source, k)) {
                    Ok(Some(value)) => emit(&print::format_array(&value)),
                    Ok(None) => {}
                    Err(e) => {
                        super::report(&e);
                        ok = false;
                        break;
                    }
                }
            }
        }
        (ok, Flow::Continue)
    }

    fn command(&mut self, text: &str) -> Result<Flow> {
        let text = text.trim();
        let (name, rest) = text
            .split_once(char::is_whitespace)
            .map_or((text, ""), |(n, r)| (n, r.trim()));
        // The statement commands' `#` comments are the lexer's; the others
        // take words, which a `#` ends.
        let rest = if STATEMENT_COMMANDS.contains(&name) {
            rest
        } else {
            rest.split('#').next().unwrap_or("").trim()
        };
        match name {
            "vars" => self.vars(),
            "load" => self.load(rest),
            "save" => self.save(rest),
            "time" => self.time(rest),
            "explain" => self.explain(rest),
            "backend" => self.backend(rest),
            "threads" => threads(rest),
            "plot" => self.plot(rest),
            "help" | "h" | "?" => help(rest),
            "quit" | "exit" | "q" => return Ok(Flow::Quit),
            _ => {
                let names = COMMANDS.iter().map(|(c, _, _)| *c).chain(["exit"]);
                let mut err = Error::new(ErrorKind::Value, format!("unknown command `:{name}`"));
                let list = COMMANDS
                    .iter()
                    .map(|(c, _, _)| format!(":{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                err = match builtins::suggest(name, names) {
                    Some(s) => err.with_help(format!("did you mean `:{s}`? commands: {list}")),
                    None => err.with_help(format!("commands: {list}")),
                };
                Err(err)
            }
        }?;
        Ok(Flow::Continue)
    }

    fn vars(&self) -> Result<()> {
        if self.session.vars.is_empty() {
            emit("no variables");
            return Ok(());
        }
        let mut rows = vec![[
            "name".to_string(),
            "dtype".to_string(),
            "shape".to_string(),
            "bytes".to_string(),
        ]];
        for (name, a) in &self.session.vars {
            rows.push([
                name.clone(),
                a.dtype().name().to_string(),
                format_shape(a.shape()),
                (a.len() * a.dtype().size()).to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..4)
            .map(|k| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        emit(&out);
        Ok(())
    }

    fn load(&mut self, args: &str) -> Result<()> {
        let Some((name, spec)) = args
            .split_once(char::is_whitespace)
            .map(|(n, s)| (n, s.trim()))
            .filter(|(_, s)| !s.is_empty())
        else {
            return Err(usage("load").with_help("e.g. :load x data.npy or :load y data.npz:y"));
        };
        check_name(name)?;
        // Ctrl-C stops a long load (checked every MiB).
        let token = super::evaluation_token();
        let array =
            super::with_progress(|| io::load_value_with_cancel(&expand_home(spec), &token))?;
        emit(&format!(
            "{name}: {} {}",
            array.dtype().name(),
            format_shape(array.shape())
        ));
        self.session.vars.insert(name.to_string(), array);
        Ok(())
    }

    fn save(&self, args: &str) -> Result<()> {
        let words: Vec<&str> = args.split_whitespace().collect();
        let Some((path, names)) = words.split_last().filter(|(_, names)| !names.is_empty()) else {
            return Err(
                usage("save").with_help("e.g. :save x out.npy (or .csv), :save x y both.npz")
            );
        };
        let values: Vec<(&str, &Array)> = names
            .iter()
            .map(|name| Ok((*name, self.var(name)?)))
            .collect::<Result<_>>()?;
        let path = expand_home(path);
        // Ctrl-C stops a long save (checked every MiB); the file is left as it was.
        let token = super::evaluation_token();
        super::with_progress(|| io::save_many_with_cancel(Path::new(&path), &values, &token))?;
        emit(&format!("saved {} to {path}", names.join(", ")));
        Ok(())
    }

    fn var(&self, name: &str) -> Result<&Array> {
        self.session.vars.get(name).ok_or_else(|| {
            let err = Error::new(ErrorKind::Name, format!("no variable `{name}`"));
            match builtins::suggest(name, self.session.vars.keys().map(String::as_str)) {
                Some(s) => err.with_help(format!("did you mean `{s}`?")),
                None => err.with_help("`:vars` lists the variables"),
            }
        })
    }

    fn time(&mut self, args: &str) -> Result<()> {
        if args.is_empty() {
            return Err(usage("time").with_help("e.g. :time sum(sin(random(1000000)))"));
        }
        let source = Source::parse(args)?;
        let [stmt] = source.program.statements.as_slice() else {
            return Err(usage("time").with_help("time one statement, e.g. :time y = sin(x)"));
        };
        if let Some(target) = &stmt.target {
            program::check_target(target).map_err(|e| e.with_source(&source.text))?;
        }
        let prepared = self.session.prepare(&source, stmt.value)?;
        let vars = self.session.bind(&prepared);
        let signature = Signature::of(&vars);
        let start = Instant::now();
        let kernel = crate::kernel::compile_ast(
            &source.text,
            &prepared.ast,
            &signature,
            self.session.options,
        )?;
        let compile = start.elapsed();
        let start = Instant::now();
        let token = &prepared.token;
        let value = super::with_progress(|| kernel.eval_with_cancel(&vars, token))?;
        let run = start.elapsed();
        // Elements processed: the largest input the kernel reads, or the result.
        let program = &kernel.compiled().optimized;
        let live = program.graph.reachable(program.root);
        let n = program
            .graph
            .ids()
            .filter(|id| live[id.index()])
            .filter_map(|id| match program.graph.node(id) {
                Node::Input(i) => program.graph.inputs().get(i.index()),
                _ => None,
            })
            .filter_map(|input| vars.get(&input.name).map(|v| v.len()))
            .fold(value.len(), usize::max);
        let mut line = format!("compile {}", format_duration(compile));
        line.push_str(&format!(", run {} ({n} elements", format_duration(run)));
        if n > 0 {
            line.push_str(&format!(
                ", {:.2} ns/element",
                run.as_secs_f64() * 1e9 / n as f64
            ));
        }
        line.push(')');
        emit(&line);
        drop(vars);
        if let Some(target) = &stmt.target {
            self.session.vars.insert(target.name.clone(), value);
        }
        Ok(())
    }

    fn explain(&mut self, args: &str) -> Result<()> {
        // `--all`: every backend's code; otherwise the active backend's.
        let (code, args) = match args.strip_prefix("--all") {
            Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => {
                (explain::Code::ALL, rest.trim_start())
            }
            _ => (explain::Code::of(self.session.options.backend), args),
        };
        if args.is_empty() {
            return Err(usage("explain").with_help("e.g. :explain sin(a)**2 + cos(a)**2"));
        }
        let start = Instant::now();
        let source = Source::parse(args)?;
        let parse_time = start.elapsed();
        let [stmt] = source.program.statements.as_slice() else {
            return Err(usage("explain").with_help("explain one expression, e.g. :explain sin(a)"));
        };
        let shown = source.program.extract(stmt.value, |_| None);
        let prepared = self.session.prepare(&source, stmt.value)?;
        let signature = Signature::of(&self.session.bind(&prepared));
        let text = explain::explain_parsed(
            &source.text,
            (&shown, parse_time),
            &prepared.ast,
            &signature,
            code,
        )
        .map_err(|e| e.with_source(&source.text))?;
        emit(&text);
        if code != explain::Code::ALL {
            emit(&format!(
                "(the {} backend's code only; `:explain --all {args}` shows every backend's)",
                backend_name(self.session.options.backend)
            ));
        }
        Ok(())
    }

    fn backend(&mut self, args: &str) -> Result<()> {
        let backend = match args {
            "" => {
                emit(&format!(
                    "backend: {}",
                    backend_name(self.session.options.backend)
                ));
                return Ok(());
            }
            "jit" => Backend::Jit,
            "interp" | "interpreter" => Backend::Interpreter,
            "gpu" => Backend::Gpu,
            other => {
                return Err(
                    Error::new(ErrorKind::Value, format!("unknown backend `{other}`"))
                        .with_help("the backends are jit, interp and gpu"),
                );
            }
        };
        self.session.options.backend = backend;
        emit(&format!("backend: {}", backend_name(backend)));
        Ok(())
    }

    fn plot(&mut self, args: &str) -> Result<()> {
        use textplots::{Chart, Plot, Shape};
        if args.is_empty() {
            return Err(usage("plot").with_help("e.g. :plot sin(linspace(0, 2*pi, 200))"));
        }
        let value = {
            let session = &mut self.session;
            super::with_progress(|| session.run(args))?
        };
        let Some(value) = value else {
            return Err(usage("plot").with_help("end with an expression, e.g. :plot sin(x)"));
        };
        if value.shape().len() != 1 {
            return Err(Error::new(
                ErrorKind::Shape,
                format!(
                    ":plot needs a 1-D array, got shape {}",
                    format_shape(value.shape())
                ),
            )
            .with_help("reduce it first, e.g. :plot sum(x, axis=0)"));
        }
        if value.is_empty() {
            return Err(Error::new(ErrorKind::Value, ":plot got an empty array"));
        }
        let points: Vec<(f32, f32)> = value
            .to_scalars()
            .iter()
            .enumerate()
            .map(|(i, s)| (i as f32, s.to_f64() as f32))
            .filter(|(_, y)| y.is_finite())
            .collect();
        if points.is_empty() {
            return Err(Error::new(
                ErrorKind::Value,
                ":plot got no finite values to draw",
            ));
        }
        let (mut ymin, mut ymax) = points
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &(_, y)| {
                (lo.min(y), hi.max(y))
            });
        if ymin == ymax {
            let pad = if ymin == 0.0 { 1.0 } else { ymin.abs() * 0.5 };
            (ymin, ymax) = (ymin - pad, ymax + pad);
        }
        let xmax = (value.len() - 1).max(1) as f32;
        let shape = Shape::Lines(&points);
        let mut chart = Chart::new_with_y_range(120, 48, 0.0, xmax, ymin, ymax);
        let chart = chart.lineplot(&shape);
        chart.axis();
        chart.figures();
        emit(&chart.to_string());
        Ok(())
    }
}

fn threads(args: &str) -> Result<()> {
    if !args.is_empty() {
        let n: usize = args.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
            Error::new(
                ErrorKind::Value,
                format!("`{args}` is not a number of threads"),
            )
            .with_help("e.g. :threads 4")
        })?;
        crate::set_num_threads(n);
    }
    emit(&format!("threads: {}", crate::num_threads()));
    Ok(())
}

fn signature(f: &builtins::Function) -> String {
    let mut params: Vec<String> = f.params.iter().map(|p| p.to_string()).collect();
    params.extend(f.keywords.iter().map(|k| format!("{k}=…")));
    format!("{}({})", f.name, params.join(", "))
}

/// The topics of `:help TOPIC` besides single names: (topic, what it lists).
const HELP_TOPICS: &[(&str, &str)] = &[
    ("commands", "the commands, with their arguments"),
    ("functions", "every function, with its arguments"),
    (
        "constructors",
        "the array constructors: arange, linspace, zeros, ...",
    ),
    ("constants", "the named constants and the dtypes"),
];

/// `:help`: a short overview; `:help TOPIC` one of [`HELP_TOPICS`] or one
/// function, constructor, command or constant.
fn help(topic: &str) -> Result<()> {
    emit(&help_text(topic)?);
    Ok(())
}

fn help_text(topic: &str) -> Result<String> {
    let topic = topic.trim().trim_start_matches(':');
    let table = |rows: Vec<(String, &str)>| {
        let width = rows
            .iter()
            .map(|(h, _)| h.chars().count())
            .max()
            .unwrap_or(0);
        rows.iter()
            .map(|(head, doc)| format!("  {head:<width$}  {doc}\n"))
            .collect::<String>()
    };
    let commands = || {
        table(
            COMMANDS
                .iter()
                .map(|(c, args, doc)| (format!(":{c} {args}"), *doc))
                .collect(),
        )
    };
    let dtypes = [
        DType::Bool,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ]
    .map(|d| d.name())
    .join(", ");
    let constants = || {
        builtins::CONSTANTS
            .iter()
            .map(|(c, v)| format!("  {c} = {v}\n"))
            .collect::<String>()
    };
    Ok(match topic {
        "" => {
            let mut out = String::new();
            out.push_str(
                "Enter `name = expr` to assign, `expr` to print its value; `;` separates\n",
            );
            out.push_str(
                "statements and `#` starts a comment. While a bracket is open or after an\n",
            );
            out.push_str("operator, input goes on at the `... ` prompt (an empty line ends it).\n");
            out.push_str("Ctrl-C cancels an evaluation, Ctrl-D leaves.\n\nCommands:\n");
            out.push_str(&commands());
            out.push_str("\nMore help:\n");
            let mut rows: Vec<(String, &str)> = HELP_TOPICS
                .iter()
                .map(|(t, doc)| (format!(":help {t}"), *doc))
                .collect();
            rows.push((
                ":help NAME".into(),
                "one function, constructor, command or constant",
            ));
            out.push_str(&table(rows));
            out
        }
        "commands" => format!("Commands:\n{}", commands()),
        "functions" => format!(
            "Functions (`:help NAME` for one):\n{}",
            table(
                builtins::FUNCTIONS
                    .iter()
                    .map(|f| (signature(f), f.doc))
                    .collect()
            )
        ),
        "constructors" => format!(
            "Array constructors (literal arguments only; usable anywhere an array is):\n{}",
            table(
                CONSTRUCTORS
                    .iter()
                    .map(|(c, doc)| (c.to_string(), *doc))
                    .collect()
            )
        ),
        "constants" | "dtypes" => format!("Constants:\n{}Dtypes: {dtypes}\n", constants()),
        _ => {
            if let Some(f) = builtins::lookup(topic) {
                format!("{}\n    {}", signature(f), f.doc)
            } else if let Some((_, doc)) = CONSTRUCTORS.iter().find(|(c, _)| *c == topic) {
                format!("{topic}: array constructor\n    {doc}")
            } else if let Some((c, args, doc)) = COMMANDS.iter().find(|(c, _, _)| *c == topic) {
                format!(":{c} {args}\n    {doc}")
            } else if let Some((c, v)) = builtins::CONSTANTS.iter().find(|(c, _)| *c == topic) {
                format!("{c} = {v}")
            } else {
                let names = builtins::FUNCTIONS
                    .iter()
                    .map(|f| f.name)
                    .chain(CONSTRUCTORS.iter().map(|(c, _)| *c))
                    .chain(COMMANDS.iter().map(|(c, _, _)| *c))
                    .chain(HELP_TOPICS.iter().map(|(t, _)| *t));
                let err = Error::new(ErrorKind::Name, format!("no help for `{topic}`"));
                return Err(match builtins::suggest(topic, names) {
                    Some(s) => err.with_help(format!("did you mean `{s}`?")),
                    None => err.with_help("`:help` lists the topics"),
                });
            }
        }
    })
}

/// Completion, validation (complete input or not) and (no) hints for the line editor.
struct ReplHelper {
    vars: Vec<String>,
    files: FilenameCompleter,
}

impl Helper for ReplHelper {}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

/// Every line is accepted as typed: the session loop decides whether the
/// input needs more and reads it at the continuation prompt.
impl Validator for ReplHelper {}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // File names as the second argument of :load and :save.
        let head = before.trim_start();
        if let Some(rest) = head
            .strip_prefix(":load")
            .or_else(|| head.strip_prefix(":save"))
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            let words = rest.split_whitespace().count();
            if words >= 2 || (words == 1 && rest.ends_with(char::is_whitespace)) {
                return self.files.complete(line, pos, ctx);
            }
        }
        Ok(complete_name(line, pos, &self.vars))
    }
}

/// Candidates for the word before `pos`: commands at the start of the line,
/// otherwise functions, constructors, constants and variables.
fn complete_name(line: &str, pos: usize, vars: &[String]) -> (usize, Vec<Pair>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .map_or(0, |i| i + 1);
    let word = &before[start..];
    if start > 0 && before[..start].trim_start() == ":" {
        let found = COMMANDS
            .iter()
            .map(|(c, _, _)| *c)
            .chain(["exit"])
            .filter(|c| c.starts_with(word))
            .map(|c| Pair {
                display: format!(":{c}"),
                replacement: format!(":{c} "),
            })
            .collect();
        let colon = before[..start].rfind(':').unwrap_or(start - 1);
        return (colon, found);
    }
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return (pos, Vec::new());
    }
    let paren = if line[pos..].starts_with('(') {
        ""
    } else {
        "("
    };
    let callables = builtins::FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(CONSTRUCTORS.iter().map(|(c, _)| *c));
    let mut found: Vec<Pair> = callables
        .filter(|n| n.starts_with(word))
        .map(|n| Pair {
            display: n.to_string(),
            replacement: format!("{n}{paren}"),
        })
        .chain(
            builtins::CONSTANTS
                .iter()
                .map(|(c, _)| *c)
                .chain(vars.iter().map(String::as_str))
                .filter(|n| n.starts_with(word))
                .map(|n| Pair {
                    display: n.to_string(),
                    replacement: n.to_string(),
                }),
        )
        .collect();
    found.sort_by(|a, b| a.display.cmp(&b.display));
    found.dedup_by(|a, b| a.display == b.display);
    (start, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_join_while_the_parser_needs_more() {
        let text = "a = (1 +\n  2)  # three (\n\n# only a comment\nb = a +\n a; :vars\n:help";
        assert_eq!(
            chunks(text),
            vec![
                "a = (1 +\n  2)  # three (",
                "# only a comment",
                "b = a +\n a; :vars",
                ":help"
            ]
        );
        // Unfinished input at the end is one last input.
        assert_eq!(chunks("sum(a\n"), vec!["sum(a"]);
        // An error that more text cannot fix ends the input at once.
        assert_eq!(chunks("a = [1,\nb"), vec!["a = [1,", "b"]);
        assert_eq!(chunks("f(a)) + (\nb"), vec!["f(a)) + (", "b"]);
        // Brackets inside strings and comments are not brackets.
        assert_eq!(chunks("'(' + 1\nb # (\nc"), vec!["'(' + 1", "b # (", "c"]);
        // After an operator, an empty line ends the input.
        assert_eq!(chunks("a +\n\nb"), vec!["a +\n", "b"]);
        // Inside a bracket it does not.
        assert_eq!(chunks("f(a,\n\n b)"), vec!["f(a,\n\n b)"]);
        // Statement commands continue like statements; others never do.
        assert_eq!(
            chunks(":time y = sin(\n a)\n:load x (\nb"),
            vec![":time y = sin(\n a)", ":load x (", "b"]
        );
        assert!(needs_more(":plot sin(linspace(0, 1,"));
        assert!(!needs_more(":vars"));
    }

    #[test]
    fn completion_of_names_and_commands() {
        let vars = vec!["arc_length".to_string()];
        let (start, found) = complete_name("1 + arct", 8, &vars);
        assert_eq!(start, 4);
        let names: Vec<&str> = found.iter().map(|p| p.replacement.as_str()).collect();
        assert_eq!(names, vec!["arctan(", "arctan2(", "arctanh("]);
        let (_, found) = complete_name("arc_", 4, &vars);
        assert_eq!(found[0].replacement, "arc_length");
        let (start, found) = complete_name(":ex", 3, &vars);
        assert_eq!(start, 0);
        let names: Vec<&str> = found.iter().map(|p| p.display.as_str()).collect();
        assert_eq!(names, vec![":explain", ":exit"]);
        let (_, found) = complete_name("lins(x)", 4, &vars);
        assert_eq!(found[0].replacement, "linspace");
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let Ok(home) = std::env::var("HOME") else {
            // Without a home directory the path stays as written.
            assert_eq!(expand_home("~/x.npy"), "~/x.npy");
            return;
        };
        assert_eq!(expand_home("~/x.npy"), format!("{home}/x.npy"));
        assert_eq!(expand_home("~"), home);
        // Only a leading `~` alone or before `/`; not `~user`, not inside.
        assert_eq!(expand_home("~user/x.npy"), "~user/x.npy");
        assert_eq!(expand_home("a/~/x.npy"), "a/~/x.npy");
    }
}
