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
//! Data flows one way: text → tokens ([`syntax::lexer`]) → AST
//! ([`syntax::parser`]) → typed IR ([`ir::lower`]) → optimized IR
//! ([`ir::optimize`]) → backend ([`backend`]) driven by the executor ([`exec`]).
#![deny(missing_docs)]

pub mod array;
pub mod backend;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod exec;
pub mod ir;
mod kernel;
pub mod syntax;
pub mod types;
mod vars;

pub use array::{Array, ArrayView, ArrayViewMut, Element};
pub use error::{Error, ErrorKind, Result, Span};
pub use exec::threads::{num_threads, set_num_threads};
pub use kernel::{
    Backend, Compiled, Kernel, Math, Options, Tier, Tiering, compile, compile_with, evaluate,
    evaluate_with,
};
pub use syntax::free_names;
pub use types::{DType, Scalar};
pub use vars::{Signature, Vars};

/// The code in README.md, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
