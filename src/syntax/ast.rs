//! The abstract syntax tree: what the user wrote, with byte spans, before any
//! name resolution or typing.
//!
//! Nodes live in an arena ([`Ast::exprs`]) and refer to their children by
//! [`ExprId`]. **Invariant:** children are pushed before their parent, so every
//! child id is smaller than its parent's id and a forward pass over the arena
//! visits operands before the operations that use them (no recursion needed,
//! however deep the expression).

use std::fmt;

use crate::error::Span;

/// Index of an expression node in [`Ast::exprs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

impl ExprId {
    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Ast {
    /// All nodes, children before parents.
    pub exprs: Vec<Expr>,
    /// The whole expression.
    pub root: ExprId,
}

impl Ast {
    /// The node with id `id`.
    pub fn get(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }
}

/// One node: what it is and the source bytes it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The node.
    pub kind: ExprKind,
    /// The source text of the whole node.
    pub span: Span,
}

/// A keyword argument `name=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyword {
    /// The keyword.
    pub name: String,
    /// Where the keyword is written.
    pub name_span: Span,
    /// The value.
    pub value: ExprId,
}

/// The kinds of expression nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Integer literal (non-negative; `-5` is a negation of `5`).
    Int(u64),
    /// Float literal.
    Float(f64),
    /// `True` or `False`.
    Bool(bool),
    /// A name: variable or built-in constant (`pi`, `e`, `inf`, `nan`).
    Name(String),
    /// `op operand`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Where the operator is written.
        op_span: Span,
        /// The operand.
        operand: ExprId,
    },
    /// `lhs op rhs`.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator is written.
        op_span: Span,
        /// Left operand.
        lhs: ExprId,
        /// Right operand.
        rhs: ExprId,
    },
    /// `func(args..., keywords...)`.
    Call {
        /// The function name.
        func: String,
        /// Where the function name is written.
        func_span: Span,
        /// Positional arguments.
        args: Vec<ExprId>,
        /// Keyword arguments.
        keywords: Vec<Keyword>,
    },
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x`
    Pos,
    /// `~x`: logical not on bool, bitwise not on integers.
    Invert,
}

/// Infix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (true division)
    Div,
    /// `//` (floor division)
    FloorDiv,
    /// `%` (Python remainder: sign of the divisor)
    Mod,
    /// `**`
    Pow,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::FloorDiv => "//",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "**",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Ge => ">=",
            BinaryOp::Gt => ">",
        }
    }

    /// `true` for the six comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Ge | BinaryOp::Gt
        )
    }
}

impl UnaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Invert => "~",
        }
    }
}

/// Prints the tree fully parenthesized, e.g. `(-(a ** 2))`: used by parser
/// tests. Iterative, so arbitrarily deep trees print without recursion.
pub struct Sexpr<'a>(pub &'a Ast, pub ExprId);

enum Piece<'a> {
    Node(ExprId),
    Text(&'a str),
}

impl fmt::Display for Sexpr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Sexpr(ast, root) = *self;
        let mut stack = vec![Piece::Node(root)];
        while let Some(piece) = stack.pop() {
            let id = match piece {
                Piece::Text(t) => {
                    f.write_str(t)?;
                    continue;
                }
                Piece::Node(id) => id,
            };
            // Pieces are pushed in reverse order of printing.
            match &ast.get(id).kind {
                ExprKind::Int(v) => write!(f, "{v}")?,
                ExprKind::Float(v) => write!(f, "{v:?}")?,
                ExprKind::Bool(b) => f.write_str(if *b { "True" } else { "False" })?,
                ExprKind::Name(n) => f.write_str(n)?,
                ExprKind::Unary { op, operand, .. } => {
                    stack.extend([
                        Piece::Text(")"),
                        Piece::Node(*operand),
                        Piece::Text(op.symbol()),
                    ]);
                    f.write_str("(")?;
                }
                ExprKind::Binary { op, lhs, rhs, .. } => {
                    stack.extend([
                        Piece::Text(")"),
                        Piece::Node(*rhs),
                        Piece::Text(" "),
                        Piece::Text(op.symbol()),
                        Piece::Text(" "),
                        Piece::Node(*lhs),
                    ]);
                    f.write_str("(")?;
                }
                ExprKind::Call {
                    func,
                    args,
                    keywords,
                    ..
                } => {
                    write!(f, "{func}(")?;
                    let mut pieces = Vec::new();
                    for (k, a) in args.iter().enumerate() {
                        if k > 0 {
                            pieces.push(Piece::Text(", "));
                        }
                        pieces.push(Piece::Node(*a));
                    }
                    for (k, kw) in keywords.iter().enumerate() {
                        if k > 0 || !args.is_empty() {
                            pieces.push(Piece::Text(", "));
                        }
                        pieces.push(Piece::Text(&kw.name));
                        pieces.push(Piece::Text("="));
                        pieces.push(Piece::Node(kw.value));
                    }
                    pieces.push(Piece::Text(")"));
                    stack.extend(pieces.into_iter().rev());
                }
            }
        }
        Ok(())
    }
}
