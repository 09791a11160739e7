//! The abstract syntax tree: what the user wrote, with byte spans, before any
//! name resolution or typing.
//!
//! Nodes live in an arena ([`Ast::exprs`]) and refer to their children by
//! [`ExprId`]. **Invariant:** children are pushed before their parent, so every
//! child id is smaller than its parent's id and a forward pass over the arena
//! visits operands before the operations that use them (no recursion needed,
//! however deep the expression).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

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

    /// The variables the expression reads, in order of first appearance:
    /// every name for which `builtin` is false (the IR's table says which
    /// names are built-in constants, `pi`, and functions: a function is
    /// called, not read; a bare `float32` is the value of a `dtype=`
    /// keyword). Function names in calls are not names.
    pub fn free_names(&self, builtin: impl Fn(&str) -> bool) -> Vec<String> {
        let mut found = FreeNames::new(&builtin);
        found.read(&self.exprs, 0..self.exprs.len());
        found.names
    }
}

/// A program: statements `name = expression` or `expression`, in order, over
/// one arena of nodes with byte spans into the program text.
///
/// Statement `k`'s nodes are a contiguous run of the arena, after those of
/// statement `k - 1` and ending with its [`Statement::value`] (the
/// children-before-parents invariant of [`Ast`] holds in the whole arena).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// All nodes of all statements, children before parents.
    pub exprs: Vec<Expr>,
    /// The statements in order.
    pub statements: Vec<Statement>,
}

/// One statement of a [`Program`].
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `name` in `name = expression`; `None` for an expression statement.
    pub target: Option<Target>,
    /// The expression.
    pub value: ExprId,
    /// The whole statement (target, `=` and expression).
    pub span: Span,
}

/// The name an assignment writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

impl Program {
    /// The node with id `id`.
    pub fn get(&self, id: ExprId) -> &Expr {
        &self.exprs[id.index()]
    }

    /// The arena indices of statement `k`'s nodes.
    pub fn nodes(&self, k: usize) -> Range<usize> {
        let start = match k.checked_sub(1) {
            Some(prev) => self.statements[prev].value.index() + 1,
            None => 0,
        };
        start..self.statements[k].value.index() + 1
    }

    /// The names the program reads before (or without) assigning them, in
    /// order of first appearance; built-in constants and function names are
    /// excluded as in [`Ast::free_names`]. `x = x + 1` reads `x`; `x = 1; x`
    /// does not.
    pub fn free_names(&self, builtin: impl Fn(&str) -> bool) -> Vec<String> {
        let mut found = FreeNames::new(&builtin);
        for (k, stmt) in self.statements.iter().enumerate() {
            found.read(&self.exprs, self.nodes(k));
            if let Some(t) = &stmt.target {
                found.assigned.insert(t.name.clone());
            }
        }
        found.names
    }

    /// The expression rooted at `root` as an [`Ast`] of its own, holding only
    /// the nodes it reaches, with the same spans. Nodes for which `replace`
    /// returns a name become that name (their children are dropped): how the
    /// command line puts an array in place of an array constructor call.
    /// `replace` is asked parents first, so an outer call replaced hides the
    /// calls inside it. The cost is that of the expression, not of the
    /// program before it.
    pub fn extract(&self, root: ExprId, mut replace: impl FnMut(ExprId) -> Option<String>) -> Ast {
        // Walk down from the root with a stack (no recursion).
        let mut reached = Vec::new();
        let mut names = HashMap::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            reached.push(id);
            match replace(id) {
                Some(name) => {
                    names.insert(id, name);
                }
                None => stack.extend(self.get(id).kind.children()),
            }
        }
        // In arena order, children still come before parents.
        reached.sort_unstable();
        reached.dedup();
        let new_id = |old: ExprId| {
            let index = reached.binary_search(&old).unwrap_or_default();
            ExprId(index as u32)
        };
        let exprs = reached
            .iter()
            .map(|&id| {
                let old = self.get(id);
                let kind = match names.remove(&id) {
                    Some(name) => ExprKind::Name(name),
                    None => old.kind.remapped(new_id),
                };
                Expr {
                    kind,
                    span: old.span,
                }
            })
            .collect();
        Ast {
            exprs,
            root: new_id(root),
        }
    }
}

/// Free names in order of first appearance.
struct FreeNames<'b> {
    names: Vec<String>,
    seen: HashSet<String>,
    assigned: HashSet<String>,
    builtin: &'b dyn Fn(&str) -> bool,
}

impl<'b> FreeNames<'b> {
    fn new(builtin: &'b dyn Fn(&str) -> bool) -> Self {
        FreeNames {
            names: Vec::new(),
            seen: HashSet::new(),
            assigned: HashSet::new(),
            builtin,
        }
    }

    fn read(&mut self, exprs: &[Expr], nodes: Range<usize>) {
        for e in &exprs[nodes] {
            let ExprKind::Name(n) = &e.kind else {
                continue;
            };
            if !(self.builtin)(n) && !self.assigned.contains(n) && self.seen.insert(n.clone()) {
                self.names.push(n.clone());
            }
        }
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
    /// Imaginary literal (`2.5j`): the imaginary part.
    Imag(f64),
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

impl ExprKind {
    /// The operands, in source order.
    pub fn children(&self) -> Vec<ExprId> {
        match self {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Imag(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_) => Vec::new(),
            ExprKind::Unary { operand, .. } => vec![*operand],
            ExprKind::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
            ExprKind::Call { args, keywords, .. } => args
                .iter()
                .copied()
                .chain(keywords.iter().map(|k| k.value))
                .collect(),
        }
    }

    /// The same node with every operand id passed through `f`.
    fn remapped(&self, f: impl Fn(ExprId) -> ExprId) -> ExprKind {
        let mut kind = self.clone();
        match &mut kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Imag(_)
            | ExprKind::Bool(_)
            | ExprKind::Name(_) => {}
            ExprKind::Unary { operand, .. } => *operand = f(*operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                *lhs = f(*lhs);
                *rhs = f(*rhs);
            }
            ExprKind::Call { args, keywords, .. } => {
                for a in args {
                    *a = f(*a);
                }
                for k in keywords {
                    k.value = f(k.value);
                }
            }
        }
        kind
    }
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
    /// `@` (matrix multiplication, NumPy's `matmul`)
    MatMul,
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
            BinaryOp::MatMul => "@",
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
                ExprKind::Imag(v) => write!(f, "{v:?}j")?,
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
