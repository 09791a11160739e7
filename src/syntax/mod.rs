//! The front end: expression text to an abstract syntax tree.
//!
//! [`lexer`] cuts the text into tokens, [`parser`] builds the [`ast::Ast`] of
//! an expression or the [`ast::Program`] of a program (the command line's
//! statements); [`diagnostics`] renders errors against the text. Nothing here
//! knows about dtypes or arrays.

pub mod ast;
pub mod diagnostics;
pub mod lexer;
pub mod parser;

use std::sync::Arc;

use crate::error::Result;

pub use parser::{Incomplete, incomplete, parse, parse_program};

/// The variables an expression or a program reads and does not assign
/// itself, in order of first appearance: what its caller must bind.
///
/// `source` is parsed as a program (a plain expression is a program of one
/// statement). Built-in constants (`pi`, `e`, `inf`, `nan`) and the names of
/// built-in functions are not variables; a name read before the statement
/// that assigns it is.
///
/// ```
/// assert_eq!(jitexpr::free_names("sin(b) * a + pi*b")?, ["b", "a"]);
/// assert_eq!(jitexpr::free_names("x = a + 1; y = x * x\nsum(y + c, axis=0)")?, ["a", "c"]);
/// # Ok::<(), jitexpr::Error>(())
/// ```
///
/// # Errors
///
/// A syntax error, with its span and the text attached.
pub fn free_names(source: &str) -> Result<Vec<String>> {
    parse_program(source)
        .map(|p| p.free_names())
        .map_err(|e| e.with_source(&Arc::from(source)))
}
