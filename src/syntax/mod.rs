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

pub use parser::{Incomplete, incomplete, parse, parse_program};
