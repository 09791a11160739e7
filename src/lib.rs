//! # jitexpr
//!
//! Array expressions in the spirit of Python's numexpr: an expression string
//! such as `sin(a)**2 + cos(b)**2` or `where(x > 0, log1p(x), 0)` is parsed,
//! typed with NumPy 2's rules, optimized into one fused expression DAG and
//! evaluated over `ndarray` inputs of any shape and strides, with NumPy
//! broadcasting.
//!
//! ```
//! use ndarray::array;
//! use jitexpr::{Vars, evaluate};
//!
//! let a = array![1.0, 2.0, 3.0];
//! let b = array![[10.0], [20.0]];
//! let r = evaluate("a * b + 1", &Vars::new().with("a", &a).with("b", &b))?;
//! assert_eq!(r.shape(), &[2, 3]);
//! assert_eq!(r.as_f64().unwrap()[[1, 2]], 61.0);
//!
//! // Reductions may appear anywhere; axes are kept with length 1 inside expressions.
//! let x = array![[1.0, 3.0], [2.0, 2.0]];
//! let r = evaluate("x / sum(x, axis=1)", &Vars::new().with("x", &x))?;
//! assert_eq!(r.as_f64().unwrap()[[0, 1]], 0.75);
//!
//! // Errors carry a span and render as a caret diagnostic.
//! let err = evaluate("sin(a", &Vars::new().with("a", &a)).unwrap_err();
//! assert_eq!(err.message(), "unclosed `(`");
//! assert!(err.render().contains("sin(a"));
//! # Ok::<(), jitexpr::Error>(())
//! ```
//!
//! The public API is what this page lists; everything else (the front end,
//! the IR, the backends, the executor) is private to the crate, so safe code
//! outside it cannot call a compiled kernel on memory it was not made for:
//!
//! ```compile_fail
//! // The JIT's call layer is not reachable from outside the crate.
//! use jitexpr::backend::jit::call::run;
//! ```
//!
//! ```compile_fail
//! // Nor through the test-support re-exports.
//! use jitexpr::internals::backend::jit::call::run;
//! ```
//!
//! How the crate is built inside is described in `ARCHITECTURE.md`.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod alloc;
mod array;
mod backend;
mod cache;
mod cancel;
/// The `jitexpr` command line (the binary calls `cli::main_with_args`); not
/// part of the library's API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
mod error;
mod exec;
#[doc(hidden)]
pub mod internals;
mod ir;
mod kernel;
#[cfg(test)]
mod layers;
mod options;
mod outline;
mod syntax;
mod threads;
mod types;
mod vars;

pub use array::{Array, ArrayView, ArrayViewMut, Element, Flat, FlatMut};
#[cfg(feature = "gpu")]
pub use backend::wgsl::Timings;
pub use cancel::CancelToken;
pub use error::{Error, ErrorKind, Result, Span};
pub use ir::{Program, Summary};
pub use kernel::{Compiled, Kernel, compile, compile_with, evaluate, evaluate_with};
pub use options::{Backend, Math, Options, Tier, Tiering};
pub use outline::{Outline, TopReduction, free_names, outline};
pub use threads::{num_threads, set_num_threads};
pub use types::{DType, Scalar, c32, c64, f16};
pub use vars::{Signature, Vars};

/// The code in README.md, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
