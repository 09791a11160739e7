//! The `jitexpr` command line: `eval`, `bench`, `explain`, `repl`, `info`.
//!
//! Exit codes: 0 success, 1 user error (a caret diagnostic on stderr,
//! coloured only on a terminal), 2 usage error (from clap).

/// `println!` that ends the process quietly when stdout is closed (`jitexpr
/// eval ... | head`), instead of panicking like `println!`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// Writes one line to stdout; exits with status 0 if stdout was closed.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{args}") {
        remove_runtime_dir();
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("jitexpr: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

pub mod bench;
pub mod explain;
pub mod io;
pub mod print;
pub mod program;
pub mod repl;

use std::io::IsTerminal;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{Error, ErrorKind, Result};
use crate::{Array, Backend, Options};
use program::Session;

/// Array expressions, compiled: evaluate, benchmark and explain them.
#[derive(Debug, Parser)]
#[command(name = "jitexpr", version, about, long_about = None)]
pub struct Cli {
    /// What to do (without one: the REPL).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The backends a command can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Cranelift native code (default).
    Jit,
    /// The reference interpreter.
    Interp,
    /// WGSL compute shaders on the GPU (float64, int64 and uint64 where the adapter supports them).
    Gpu,
}

/// When the JIT compiles optimized code (see `Tiering`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TieringArg {
    /// Interpreted first, optimized once the kernel is hot (default).
    Adaptive,
    /// The interpreted tier only (stages it cannot run compiled baseline).
    Interpreted,
    /// The baseline tier only.
    Baseline,
    /// The optimized tier, up front.
    Optimized,
}

impl From<TieringArg> for crate::Tiering {
    fn from(t: TieringArg) -> crate::Tiering {
        match t {
            TieringArg::Adaptive => crate::Tiering::Adaptive,
            TieringArg::Interpreted => crate::Tiering::Interpreted,
            TieringArg::Baseline => crate::Tiering::Baseline,
            TieringArg::Optimized => crate::Tiering::Optimized,
        }
    }
}

/// A program and its inputs, as `eval` and `bench` take them.
#[derive(Debug, clap::Args)]
pub struct ProgramArgs {
    /// The program: statements `name = expr` separated by `;` or newlines,
    /// ending in an expression, e.g. 'a = random(1000, 1000); sum(sin(a) + cos(a))'
    /// (with --file, the first input instead).
    #[arg(allow_hyphen_values = true, required_unless_present = "file")]
    pub program: Option<String>,
    /// Inputs: files, numbers or made-up arrays (see the help text).
    #[arg(
        help = "Inputs: NAME=file.npy, NAME=data.npz:member, NAME=2.5, or NAME=dtype[shape] \
                (made-up values: floats in [0, 1) (complex: both parts), integers in 0..100; e.g. a=float64[1000000])"
    )]
    pub inputs: Vec<String>,
    /// Read the program from this file (`-`: standard input).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
}

impl ProgramArgs {
    /// The program's text (read from the file with `--file`) and the inputs.
    pub fn read(self) -> Result<(String, Vec<String>)> {
        match self.file {
            // The first positional argument is then an input.
            Some(path) => {
                let text = read_program(&path)?;
                Ok((text, self.program.into_iter().chain(self.inputs).collect()))
            }
            None => Ok((self.program.unwrap_or_default(), self.inputs)),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a program: statements `name = expr` separated by `;` or newlines, ending in an expression.
    Eval {
        /// The program and its inputs.
        #[command(flatten)]
        source: ProgramArgs,
        /// Write the result to this .npy, .npz or .csv file instead of printing it.
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The backend.
        #[arg(long, value_enum, default_value_t = BackendArg::Jit)]
        backend: BackendArg,
        /// Worker threads (default: one per core, or JITEXPR_NUM_THREADS).
        #[arg(long, value_parser = threads_arg)]
        threads: Option<usize>,
    },
    /// Time a program's last statement (the ones before it run once): compile once, warm up, evaluate R times into a preallocated output.
    Bench {
        /// The program and its inputs.
        #[command(flatten)]
        source: ProgramArgs,
        /// Timed evaluations (1 to 1000000).
        #[arg(long, default_value_t = 10, value_parser = repeat_arg)]
        repeat: usize,
        /// Worker threads.
        #[arg(long, value_parser = threads_arg)]
        threads: Option<usize>,
        /// The backend.
        #[arg(long, value_enum, default_value_t = BackendArg::Jit)]
        backend: BackendArg,
        /// JIT: when to compile the optimized tier.
        #[arg(long, value_enum, default_value_t = TieringArg::Adaptive)]
        tiering: TieringArg,
        /// Print one JSON object on one line.
        #[arg(long)]
        json: bool,
    },
    /// Show tokens, AST, IR before and after optimization, Cranelift IR, and stage times.
    Explain {
        /// The expression.
        expr: String,
        /// Inputs: a file or a dtype with an optional shape per name (see --help).
        #[arg(
            help = "Inputs: NAME=file.npy or NAME=dtype[shape] (e.g. a=float32[1000]); others are float64"
        )]
        inputs: Vec<String>,
    },
    /// The interactive session (reads a script from stdin when it is not a terminal).
    Repl,
    /// The backends and devices available.
    Info,
}

/// The most timed evaluations `bench --repeat` takes.
const MAX_REPEAT: u64 = 1_000_000;

/// `--threads`: 1 to [`crate::threads::MAX_THREADS`].
fn threads_arg(s: &str) -> std::result::Result<usize, String> {
    let max = crate::threads::MAX_THREADS;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of threads from 1 to {max}")),
    }
}

/// `--repeat`: 1 to [`MAX_REPEAT`].
fn repeat_arg(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<u64>() {
        Ok(n) if (1..=MAX_REPEAT).contains(&n) => Ok(n as usize),
        _ => Err(format!("expected a number of runs from 1 to {MAX_REPEAT}")),
    }
}

/// Runs the command line with `args` (including the program name). An
/// argument that is not valid UTF-8 is a usage error (exit 2), as is a
/// `JITEXPR_NUM_THREADS` that is not a thread count.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    if let Some(v) = std::env::var_os("JITEXPR_NUM_THREADS")
        && let Err(e) = v
            .to_str()
            .ok_or_else(|| "not UTF-8".to_string())
            .and_then(threads_arg)
    {
        eprintln!("error: JITEXPR_NUM_THREADS={}: {e}", v.to_string_lossy());
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code.clamp(0, 255) as u8);
        }
    };
    if cli.command.as_ref().is_none_or(Command::may_use_gpu) {
        quiet_wayland();
    }
    let result = match cli.command {
        None | Some(Command::Repl) => {
            let code = repl::run(Options::default());
            remove_runtime_dir();
            return code;
        }
        Some(Command::Eval {
            source,
            out,
            backend,
            threads,
        }) => source
            .read()
            .and_then(|(text, inputs)| eval(&text, &inputs, out, backend, threads)),
        Some(Command::Bench {
            source,
            repeat,
            threads,
            backend,
            tiering,
            json,
        }) => source.read().and_then(|(text, inputs)| {
            bench::run(&text, &inputs, repeat, threads, (backend, tiering), json)
        }),
        Some(Command::Explain { expr, inputs }) => explain::run(&expr, &inputs),
        Some(Command::Info) => info(),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(1)
        }
    };
    remove_runtime_dir();
    code
}

impl Command {
    /// Whether the command may open the GPU (the REPL may switch to it).
    fn may_use_gpu(&self) -> bool {
        match self {
            Command::Eval { backend, .. } | Command::Bench { backend, .. } => {
                *backend == BackendArg::Gpu
            }
            Command::Repl | Command::Info => true,
            Command::Explain { .. } => false,
        }
    }
}

/// The private directory [`quiet_wayland`] made, removed at exit.
static RUNTIME_DIR: std::sync::Mutex<Option<tempfile::TempDir>> = std::sync::Mutex::new(None);

/// Without `XDG_RUNTIME_DIR` (a headless machine, a container, `sudo`),
/// opening the GPU printed `error: XDG_RUNTIME_DIR is invalid or not set in
/// the environment.` twice: Mesa's device-select Vulkan layer asks
/// libwayland-client for a compositor when wgpu enumerates the Vulkan
/// adapters, and libwayland complains (wgpu's GL backend does not, and
/// dropping Vulkan would drop lavapipe). As the XDG spec asks of a program
/// that finds the variable unset, it is pointed at a private (0700) empty
/// directory of our own, for this process only: libwayland finds no
/// compositor there and says nothing. Done before any thread starts (the
/// environment cannot be changed safely once there are several; with
/// several nothing is changed and the message stays).
fn quiet_wayland() {
    let set = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).is_absolute());
    if set {
        return;
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix("jitexpr-runtime-");
    #[cfg(unix)]
    let private = <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700);
    #[cfg(unix)]
    builder.permissions(private);
    let Ok(dir) = builder.tempdir() else {
        return;
    };
    if crate::threads::set_env_while_alone("XDG_RUNTIME_DIR", dir.path().as_os_str()) {
        *RUNTIME_DIR.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
    }
}

/// Removes the directory [`quiet_wayland`] made, if any.
fn remove_runtime_dir() {
    drop(RUNTIME_DIR.lock().unwrap_or_else(|e| e.into_inner()).take());
}

/// Prints an error to stderr: coloured caret diagnostic on a terminal, plain otherwise.
pub fn report(e: &Error) {
    let text = if std::io::stderr().is_terminal() {
        e.render_colored()
    } else {
        e.render()
    };
    eprintln!("{}", text.trim_end());
}

/// The options for a backend argument.
pub fn options(backend: BackendArg) -> Result<Options> {
    match backend {
        BackendArg::Jit => Ok(Options::with_backend(Backend::Jit)),
        BackendArg::Interp => Ok(Options::with_backend(Backend::Interpreter)),
        BackendArg::Gpu => Ok(Options::with_backend(Backend::Gpu)),
    }
}

/// Parses `NAME=VALUE` inputs and loads them: a file, a number, or
/// `dtype[shape]` made up ([`program::placeholder`], seeded by the input's
/// position). A name given twice is an error (the second would silently
/// replace the first).
pub fn load_inputs(inputs: &[String]) -> Result<Vec<(String, Array)>> {
    let mut seen = std::collections::HashSet::new();
    inputs
        .iter()
        .enumerate()
        .map(|(seed, spec)| {
            let (name, value) = spec.split_once('=').ok_or_else(|| {
                Error::new(
                    ErrorKind::Value,
                    format!("input `{spec}` is not NAME=VALUE"),
                )
                .with_help("e.g. a=data.npy, x=data.npz:x, k=2.5 or a=float64[1000]")
            })?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(Error::new(
                    ErrorKind::Value,
                    format!("`{name}` is not a valid variable name"),
                ));
            }
            if !seen.insert(name) {
                return Err(
                    Error::new(ErrorKind::Value, format!("input `{name}` is given twice"))
                        .with_help("give each input once, or use another name"),
                );
            }
            let array = match program::parse_placeholder(value) {
                Some(spec) => {
                    let (dtype, shape) = spec?;
                    program::placeholder(dtype, &shape, seed as u64)?
                }
                None => io::load_value(value)?,
            };
            Ok((name.to_string(), array))
        })
        .collect()
}

/// The text of a program file, or of standard input for `-`, read up to
/// the parser's input limit (a huge file is not read whole).
fn read_program(path: &Path) -> Result<String> {
    let max = crate::syntax::parser::MAX_SOURCE_LEN;
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .take(max as u64 + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(max as u64 + 1).read_to_end(&mut bytes))
    };
    let cannot = |why: String| {
        Error::new(
            ErrorKind::Value,
            format!("cannot read the program '{}': {why}", path.display()),
        )
    };
    read.map_err(|e| cannot(e.to_string()).with_help("check the path"))?;
    if bytes.len() > max {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "the program '{}' is longer than {max} bytes",
                path.display()
            ),
        )
        .with_help("split it, or load large data from .npy files"));
    }
    String::from_utf8(bytes).map_err(|_| {
        cannot("it is not UTF-8 text".to_string()).with_help("save the program as UTF-8")
    })
}

fn eval(
    program: &str,
    inputs: &[String],
    out: Option<PathBuf>,
    backend: BackendArg,
    threads: Option<usize>,
) -> Result<()> {
    if let Some(n) = threads {
        crate::set_num_threads(n);
    }
    let mut session = session(options(backend)?, inputs)?;
    let result = with_progress(|| session.run(program))?;
    let Some(result) = result else {
        return Err(Error::new(ErrorKind::Value, "the program has no result")
            .with_help("end it with an expression, e.g. `a = random(10); sum(a)`"));
    };
    match out {
        Some(path) => io::save(&path, &result),
        None => {
            outln!("{}", print::format_array(&result));
            Ok(())
        }
    }
}

/// A session evaluating with `options` whose variables are the `NAME=VALUE` inputs.
pub fn session(options: Options, inputs: &[String]) -> Result<Session> {
    let mut session = Session::new(options);
    for (name, array) in load_inputs(inputs)? {
        session.vars.insert(name, array);
    }
    Ok(session)
}

/// The cancel token of the evaluation the command line runs now: Ctrl-C
/// (SIGINT, see [`cancel_current`]) cancels that evaluation only.
static CURRENT: std::sync::Mutex<Option<crate::CancelToken>> = std::sync::Mutex::new(None);

/// A fresh token for the evaluation about to start, which Ctrl-C cancels.
pub(crate) fn evaluation_token() -> crate::CancelToken {
    let token = crate::CancelToken::new();
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
    token
}

/// Cancels the evaluation running now, if any (the SIGINT handler).
pub(crate) fn cancel_current() {
    if let Some(t) = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        t.cancel();
    }
}

/// Runs `work` on this thread, showing a spinner on stderr if it takes
/// longer than a second and stderr is a terminal; the spinner is gone when
/// `work` returns. The spinner is drawn by one thread that lives as long as
/// the process: an evaluation pays two lock round trips, not a thread (a
/// thread per evaluation added 0.5 to 8 ms to `:time 1+1` on a terminal
/// here, and a 20 ms polling loop before it added 20 ms).
pub fn with_progress<T>(work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let spinner = Spinner::get();
    spinner.start();
    let v = work();
    spinner.stop();
    v
}

/// The spinner's state: which evaluation runs (a generation number, so a
/// spinner never outlives the evaluation it was drawn for) and whether
/// anything is on screen.
#[derive(Debug, Default)]
struct SpinnerState {
    running: Option<u64>,
    generation: u64,
    drawn: bool,
}

#[derive(Debug, Default)]
struct Spinner {
    state: std::sync::Mutex<SpinnerState>,
    changed: std::sync::Condvar,
}

impl Spinner {
    /// The process's spinner, its thread started on first use.
    fn get() -> &'static Spinner {
        static SPINNER: std::sync::OnceLock<&'static Spinner> = std::sync::OnceLock::new();
        SPINNER.get_or_init(|| {
            let spinner: &'static Spinner = Box::leak(Box::default());
            let started = std::thread::Builder::new()
                .name("jitexpr-spinner".into())
                .spawn(move || spinner.run());
            if started.is_err() {
                // No thread, no spinner: the evaluations run all the same.
                spinner.lock().generation = u64::MAX;
            }
            spinner
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SpinnerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An evaluation starts.
    fn start(&self) {
        let mut s = self.lock();
        s.generation = s.generation.wrapping_add(1);
        s.running = Some(s.generation);
        self.changed.notify_all();
    }

    /// The evaluation is done: the spinner is cleared before this returns
    /// (drawing happens under the lock, so no frame comes after).
    fn stop(&self) {
        let mut s = self.lock();
        s.running = None;
        if s.drawn {
            draw_spinner(None);
            s.drawn = false;
        }
        self.changed.notify_all();
    }

    /// The spinner thread: for each evaluation, after a second, a frame
    /// every 100 ms until it stops.
    fn run(&self) {
        let mut s = self.lock();
        loop {
            s = self
                .changed
                .wait_while(s, |s| s.running.is_none())
                .unwrap_or_else(|e| e.into_inner());
            let current = s.running;
            let mut wait = std::time::Duration::from_secs(1);
            let mut frame = 0;
            loop {
                let (next, timeout) = self
                    .changed
                    .wait_timeout_while(s, wait, |s| s.running == current)
                    .unwrap_or_else(|e| e.into_inner());
                s = next;
                if !timeout.timed_out() {
                    break;
                }
                draw_spinner(Some(frame));
                s.drawn = true;
                frame += 1;
                wait = std::time::Duration::from_millis(100);
            }
        }
    }
}

/// Draws frame `frame` of the spinner at the start of stderr's line, or
/// (`None`) clears that line. The spinner is short and the line is not
/// padded to the terminal's width: the `^C` a terminal echoes after it
/// then stays on the same line, which the clearing erases (indicatif's
/// spinner filled the width, the echo wrapped to the next line, and the
/// clear left the spinner on screen after Ctrl-C).
fn draw_spinner(frame: Option<usize>) {
    use std::io::Write;
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut err = std::io::stderr().lock();
    let _ = match frame {
        Some(k) => write!(err, "\r{} evaluating\x1b[K", FRAMES[k % FRAMES.len()]),
        None => write!(err, "\r\x1b[2K"),
    };
    let _ = err.flush();
}

fn info() -> Result<()> {
    outln!("jitexpr {}", env!("CARGO_PKG_VERSION"));
    outln!("backends:");
    outln!(
        "  jit     Cranelift native code for {} ({} threads)",
        std::env::consts::ARCH,
        crate::num_threads()
    );
    outln!("  interp  reference interpreter");
    #[cfg(feature = "gpu")]
    {
        let adapters = crate::backend::wgsl::device::adapters();
        if adapters.is_empty() {
            outln!("  gpu     no adapter found");
        }
        let yes = |b: bool| if b { "yes" } else { "no" };
        for (a, f64, i64) in adapters {
            let f = format!("{:?}", a.backend);
            outln!(
                "  gpu     {} | {f} | {:?} | driver {} | float64 {} | int64 {}",
                a.name,
                a.device_type,
                a.driver,
                yes(f64 && i64),
                yes(i64)
            );
        }
    }
    #[cfg(not(feature = "gpu"))]
    outln!("  gpu     not built (feature `gpu`)");
    Ok(())
}
