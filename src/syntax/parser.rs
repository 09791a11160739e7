//! A hand-written Pratt parser from tokens to the [`Ast`].
//!
//! Grammar: `grammar/jitexpr.ebnf`. [`parse`] reads one expression (the
//! library's language); [`parse_program`] reads a program of statements (the
//! command line's and the REPL's language) into one [`Program`], and
//! [`incomplete`] tells the REPL whether a text stops where more input could
//! complete it. Precedence and associativity come from one table,
//! [`infix_binding_power`]. Parsing never panics: every failure is an
//! [`Error`] with the span of the offending token. The parser does not
//! recurse: the constructs that nest (parentheses, calls, prefix operators,
//! right operands) keep their pending work on an explicit stack (`Frame`),
//! so nesting is bounded only by [`MAX_SOURCE_LEN`] and never by the thread's
//! stack; left-associative chains (`a + b + c + …`) are a loop.

use crate::error::{Error, ErrorKind, Result, Span};
use crate::syntax::ast::{
    Ast, BinaryOp, Expr, ExprId, ExprKind, Keyword, Program, Statement, Target, UnaryOp,
};
use crate::syntax::lexer::{Spanned, Token, newline_between, tokenize};

/// The longest expression accepted, in bytes.
pub const MAX_SOURCE_LEN: usize = 256 * 1024;

/// Binding power of prefix `-`, `+`, `~`: tighter than `*`, looser than `**`.
const PREFIX_BP: u8 = 80;

/// `(operator, left binding power, right binding power)` of an infix token.
///
/// | level | operators                  | associativity          |
/// |-------|----------------------------|------------------------|
/// | 10    | `< <= == != >= >`          | none (chains rejected) |
/// | 20    | `\|`                       | left                   |
/// | 30    | `^`                        | left                   |
/// | 40    | `&`                        | left                   |
/// | 50    | `<< >>`                    | left                   |
/// | 60    | `+ -`                      | left                   |
/// | 70    | `* @ / // %`               | left                   |
/// | 80    | prefix `- + ~`             | prefix                 |
/// | 90    | `**`                       | right                  |
///
/// `**` binds tighter than a prefix operator on its left (`-a**2` is
/// `-(a**2)`) but its right operand may itself start with one (`2**-1`).
pub fn infix_binding_power(token: Token) -> Option<(BinaryOp, u8, u8)> {
    use BinaryOp::*;
    let (op, level) = match token {
        Token::Lt => (Lt, 10),
        Token::Le => (Le, 10),
        Token::EqEq => (Eq, 10),
        Token::Ne => (Ne, 10),
        Token::Ge => (Ge, 10),
        Token::Gt => (Gt, 10),
        Token::Pipe => (BitOr, 20),
        Token::Caret => (BitXor, 30),
        Token::Amp => (BitAnd, 40),
        Token::Shl => (Shl, 50),
        Token::Shr => (Shr, 50),
        Token::Plus => (Add, 60),
        Token::Minus => (Sub, 60),
        Token::Star => (Mul, 70),
        Token::At => (MatMul, 70),
        Token::Slash => (Div, 70),
        Token::SlashSlash => (FloorDiv, 70),
        Token::Percent => (Mod, 70),
        Token::StarStar => return Some((Pow, 91, 90)),
        _ => return None,
    };
    Some((op, level, level + 1))
}

/// Parses an expression. Line breaks and `#` comments are whitespace; `;`
/// and assignments are errors (they belong to programs, [`parse_program`]).
pub fn parse(source: &str) -> Result<Ast> {
    let mut parser = Parser::new(source, false)?;
    if parser.tokens.is_empty() {
        return Err(Error::new(ErrorKind::Syntax, "empty expression")
            .at(Span::new(0, source.len()))
            .with_label("expected an expression")
            .with_help("write an expression such as `a * b + c`"));
    }
    let root = parser.expression(0)?;
    if let Some(tok) = parser.peek() {
        return Err(parser.unexpected_after_expression(tok));
    }
    Ok(Ast {
        exprs: parser.exprs,
        root,
    })
}

/// Parses a program: statements `name = expression` or `expression`,
/// separated by `;` or line breaks. A line break ends a statement only where
/// the statement could end: outside parentheses and after a complete
/// expression (after an operator, `=` or `,` the statement goes on). Empty
/// statements are allowed, so an empty program (or one of comments only) has
/// no statements.
pub fn parse_program(source: &str) -> Result<Program> {
    Parser::new(source, true)?.program()
}

/// Why a text is not a whole program yet: it stops where more input could
/// complete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incomplete {
    /// The text ends inside an open `(`.
    OpenBracket,
    /// The text ends after an operator or `=`, outside parentheses, where an
    /// expression must follow.
    Operand,
}

/// `Some` when `source` is not a program only because it ends too early (the
/// REPL then reads another line); `None` when it parses, and when it has an
/// error that more text cannot fix: `x = maximum(a,` is
/// [`Incomplete::OpenBracket`], `x = a +` is [`Incomplete::Operand`],
/// `x = a + 1  # (` and `x = a) +` are `None`.
pub fn incomplete(source: &str) -> Option<Incomplete> {
    let mut parser = Parser::new(source, true).ok()?;
    match parser.statements() {
        Ok(_) => None,
        Err(_) => parser.incomplete,
    }
}

impl<'s> Parser<'s> {
    fn new(source: &'s str, program: bool) -> Result<Parser<'s>> {
        if source.len() > MAX_SOURCE_LEN {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "expression is {} bytes long; the limit is {MAX_SOURCE_LEN}",
                    source.len()
                ),
            )
            .with_help("split the computation into several expressions"));
        }
        Ok(Parser {
            source,
            tokens: tokenize(source)?,
            pos: 0,
            exprs: Vec::new(),
            open_parens: 0,
            program,
            incomplete: None,
        })
    }

    fn program(mut self) -> Result<Program> {
        let statements = self.statements()?;
        Ok(Program {
            exprs: self.exprs,
            statements,
        })
    }

    /// `program := {";"} [statement {separator {";"} statement}] {";"}`
    fn statements(&mut self) -> Result<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            while self.peek().is_some_and(|t| t.token == Token::Semicolon) {
                self.bump();
            }
            if self.peek().is_none() {
                return Ok(statements);
            }
            let stmt = self.statement()?;
            // A statement ends at `;`, at a line break or at the end.
            if let Some(tok) = self.peek()
                && !self.ends_statement(tok)
            {
                return Err(self.unexpected_after_expression(tok));
            }
            statements.push(stmt);
        }
    }

    /// `statement := [name "="] expression`
    fn statement(&mut self) -> Result<Statement> {
        let (Some(first), second) = (self.peek(), self.peek_at(1)) else {
            return Err(Error::internal("statement at the end of the input"));
        };
        if first.token != Token::Ident || second.map(|t| t.token) != Some(Token::Assign) {
            let value = self.expression(0)?;
            return Ok(Statement {
                target: None,
                value,
                span: self.span_of(value),
            });
        }
        let name = self.text(first.span).to_string();
        if name == "True" || name == "False" {
            return Err(
                Error::new(ErrorKind::Syntax, format!("cannot assign to `{name}`"))
                    .at(first.span)
                    .with_label("a bool literal")
                    .with_help("choose a variable name"),
            );
        }
        if PYTHON_KEYWORDS.contains(&name.as_str()) {
            return Err(keyword_error(&name, first.span));
        }
        self.bump();
        let assign = self.bump().unwrap_or(first);
        let value = self.operand_after(assign, 0)?;
        Ok(Statement {
            target: Some(Target {
                name,
                span: first.span,
            }),
            value,
            span: first.span.to(self.span_of(value)),
        })
    }

    /// In a program, outside parentheses: `tok` (the next token) starts the
    /// next statement because it is `;` or the first token of a new line.
    fn ends_statement(&self, tok: Spanned) -> bool {
        self.program
            && self.open_parens == 0
            && (tok.token == Token::Semicolon
                || self
                    .pos
                    .checked_sub(1)
                    .and_then(|p| self.tokens.get(p))
                    .is_some_and(|prev| newline_between(self.source, prev.span, tok.span)))
    }

    /// Why the input ended too early, at an error at its end.
    fn ran_out(&mut self) {
        self.incomplete = Some(if self.open_parens > 0 {
            Incomplete::OpenBracket
        } else {
            Incomplete::Operand
        });
    }
}

/// Python keywords: never names, each rejected with a hint.
const PYTHON_KEYWORDS: &[&str] = &[
    "None", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

struct Parser<'s> {
    source: &'s str,
    tokens: Vec<Spanned>,
    pos: usize,
    exprs: Vec<Expr>,
    /// How many `(` are open around the current position.
    open_parens: usize,
    /// Parsing a program: `;` and line breaks end statements.
    program: bool,
    /// Set when an error is that the input ended too early.
    incomplete: Option<Incomplete>,
}

/// Work waiting for an operand: the parser's explicit stack (see
/// [`Parser::expression`]), innermost construct last.
enum Frame {
    /// The infix loop of an expression whose operators bind at least
    /// `min_bp`: the next finished operand is its left-hand side.
    Infix {
        min_bp: u8,
        /// The left-hand side is a comparison (they do not chain).
        after_comparison: bool,
    },
    /// `lhs op` waits for its right operand, in an expression of `min_bp`.
    Rhs {
        min_bp: u8,
        op: BinaryOp,
        op_span: Span,
        lhs: ExprId,
    },
    /// A prefix operator waits for its operand.
    Prefix { op: UnaryOp, op_span: Span },
    /// `(` waits for the expression inside it.
    Paren { open: Span },
    /// A call waits for an argument.
    Arg(Box<CallFrame>),
}

/// A call being parsed.
struct CallFrame {
    func: String,
    func_span: Span,
    /// Its `(`.
    open: Span,
    args: Vec<ExprId>,
    keywords: Vec<Keyword>,
    /// The `name=` of the argument being parsed, if it is a keyword argument.
    keyword: Option<(String, Span)>,
}

/// What [`Parser::prefix`] read.
enum Prefix {
    /// A complete operand.
    Value(ExprId),
    /// The start of a construct (its frame pushed) that needs an expression
    /// binding at this power next.
    Opened(u8),
}

/// Where a call stands after [`Parser::call_next`].
enum Call {
    /// Closed: its node.
    Done(ExprId),
    /// Waiting for an argument.
    Next(Box<CallFrame>),
}

impl Parser<'_> {
    fn peek(&self) -> Option<Spanned> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<Spanned> {
        self.tokens.get(self.pos + offset).copied()
    }

    fn bump(&mut self) -> Option<Spanned> {
        let tok = self.peek();
        self.pos += 1;
        tok
    }

    fn text(&self, span: Span) -> &str {
        &self.source[span.range()]
    }

    fn end_span(&self) -> Span {
        Span::new(self.source.len(), self.source.len())
    }

    fn push(&mut self, kind: ExprKind, span: Span) -> ExprId {
        let id = ExprId(self.exprs.len() as u32);
        self.exprs.push(Expr { kind, span });
        id
    }

    fn span_of(&self, id: ExprId) -> Span {
        self.exprs[id.index()].span
    }

    /// `expression := prefix (infix_op expression)*`, climbing by binding power.
    ///
    /// One loop over an explicit stack of [`Frame`]s instead of recursion:
    /// an operand is started (`'operand`), parsed by [`Parser::prefix`], and
    /// the finished value is handed down the stack until a frame needs
    /// another operand (the right side of an operator, an argument) or the
    /// stack is empty (the whole expression).
    fn expression(&mut self, min_bp: u8) -> Result<ExprId> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut min_bp = min_bp;
        'operand: loop {
            // A new (sub)expression binding at `min_bp`: its infix loop
            // waits for the operand that starts it.
            stack.push(Frame::Infix {
                min_bp,
                after_comparison: false,
            });
            let mut value = match self.prefix(&mut stack)? {
                Prefix::Value(v) => v,
                Prefix::Opened(bp) => {
                    min_bp = bp;
                    continue 'operand;
                }
            };
            loop {
                // `.real`, `.imag`, `.conj()` bind to the operand just completed.
                value = self.attributes(value)?;
                match stack.pop() {
                    None => return Ok(value),
                    Some(Frame::Infix {
                        min_bp: bp,
                        after_comparison,
                    }) => {
                        if let Some((op, tok, rbp)) = self.infix(bp, after_comparison)? {
                            stack.push(Frame::Rhs {
                                min_bp: bp,
                                op,
                                op_span: tok.span,
                                lhs: value,
                            });
                            min_bp = rbp;
                            continue 'operand;
                        }
                        // The expression ends here: `value` is its value.
                    }
                    Some(Frame::Rhs {
                        min_bp: bp,
                        op,
                        op_span,
                        lhs,
                    }) => {
                        let span = self.span_of(lhs).to(self.span_of(value));
                        value = self.push(
                            ExprKind::Binary {
                                op,
                                op_span,
                                lhs,
                                rhs: value,
                            },
                            span,
                        );
                        stack.push(Frame::Infix {
                            min_bp: bp,
                            after_comparison: op.is_comparison(),
                        });
                    }
                    Some(Frame::Prefix { op, op_span }) => {
                        let full = op_span.to(self.span_of(value));
                        value = self.push(
                            ExprKind::Unary {
                                op,
                                op_span,
                                operand: value,
                            },
                            full,
                        );
                    }
                    Some(Frame::Paren { open }) => value = self.close_paren(open, value)?,
                    Some(Frame::Arg(call)) => match self.argument(call, value)? {
                        Call::Done(node) => value = node,
                        Call::Next(call) => {
                            stack.push(Frame::Arg(call));
                            min_bp = 0;
                            continue 'operand;
                        }
                    },
                }
            }
        }
    }

    /// `attribute := operand ("." ("real" | "imag") | "." "conj" "(" ")")*`:
    /// numexpr's spellings of `real(x)`, `imag(x)` and `conj(x)`, parsed as
    /// those calls (`(a-10).real` is `real(a-10)`). Any other attribute is
    /// left for [`Parser::postfix_error`].
    fn attributes(&mut self, mut value: ExprId) -> Result<ExprId> {
        while let (Some(dot), Some(name)) = (self.peek(), self.peek_at(1)) {
            if dot.token != Token::Dot || name.token != Token::Ident {
                break;
            }
            let func = self.text(name.span).to_string();
            let end = match func.as_str() {
                "real" | "imag" => name.span,
                "conj" => match (self.peek_at(2), self.peek_at(3)) {
                    (Some(l), Some(r)) if l.token == Token::LParen && r.token == Token::RParen => {
                        r.span
                    }
                    _ => {
                        return Err(Error::new(ErrorKind::Syntax, "`.conj` must be called")
                            .at(name.span)
                            .with_label("method without `()`")
                            .with_help("write `x.conj()` or `conj(x)`"));
                    }
                },
                _ => break,
            };
            while self.peek().is_some_and(|t| t.span.start <= end.start) {
                self.bump();
            }
            let span = self.span_of(value).to(end);
            value = self.push(
                ExprKind::Call {
                    func,
                    func_span: name.span,
                    args: vec![value],
                    keywords: Vec::new(),
                },
                span,
            );
        }
        Ok(value)
    }

    /// After an operand of an expression binding at `min_bp`: the infix
    /// operator that continues the expression (consumed, with its right
    /// binding power), or `None` where the expression ends.
    fn infix(
        &mut self,
        min_bp: u8,
        after_comparison: bool,
    ) -> Result<Option<(BinaryOp, Spanned, u8)>> {
        let Some(tok) = self.peek() else {
            return Ok(None);
        };
        if self.ends_statement(tok) {
            return Ok(None);
        }
        if let Some((op, lbp, rbp)) = infix_binding_power(tok.token) {
            if lbp < min_bp {
                return Ok(None);
            }
            if op.is_comparison() && after_comparison {
                return Err(
                    Error::new(ErrorKind::Syntax, "chained comparisons are not supported")
                        .at(tok.span)
                        .with_label("second comparison")
                        .with_help("write `(a < b) & (b < c)` instead of `a < b < c`"),
                );
            }
            self.bump();
            self.need_operand(tok)?;
            return Ok(Some((op, tok, rbp)));
        }
        match self.postfix_error(tok) {
            Some(err) => Err(err),
            None => Ok(None),
        }
    }

    /// The right operand of an infix operator or the operand of a prefix one;
    /// at the end of input, the error points past the end and at the operator.
    fn operand_after(&mut self, op: Spanned, bp: u8) -> Result<ExprId> {
        self.need_operand(op)?;
        self.expression(bp)
    }

    /// The error for an operator `op` at the end of the input.
    fn need_operand(&mut self, op: Spanned) -> Result<()> {
        if self.peek().is_some() {
            return Ok(());
        }
        self.ran_out();
        Err(Error::new(
            ErrorKind::Syntax,
            format!(
                "expected an expression after {}, found end of input",
                op.token.describe()
            ),
        )
        .at(self.end_span())
        .with_label("expected an expression here")
        .with_secondary(op.span, "this operator needs an operand"))
    }

    /// Tokens that cannot follow an expression but mean something in Python:
    /// an error that says what to write instead.
    fn postfix_error(&self, tok: Spanned) -> Option<Error> {
        let syntax = |msg: &str| Error::new(ErrorKind::Syntax, msg.to_string()).at(tok.span);
        Some(match tok.token {
            Token::Ident => match self.text(tok.span) {
                "and" => syntax("`and` is not supported")
                    .with_label("use `&`")
                    .with_help("write `(a > 0) & (b < 1)`: `&` is logical and on booleans"),
                "or" => syntax("`or` is not supported")
                    .with_label("use `|`")
                    .with_help("write `(a > 0) | (b < 1)`: `|` is logical or on booleans"),
                "if" => syntax("conditional expressions are not supported")
                    .with_label("`x if c else y`")
                    .with_help("write `where(c, x, y)`"),
                "is" => syntax("`is` is not supported")
                    .with_label("identity test")
                    .with_help("compare values with `==` or `!=`"),
                "not" | "in" => syntax("membership tests (`in`, `not in`) are not supported")
                    .with_label("not supported")
                    .with_help("compare with `==` and combine with `|`"),
                "for" => syntax("comprehensions are not supported")
                    .with_label("not supported")
                    .with_help("jitexpr applies the expression to every element already"),
                _ => return None,
            },
            Token::Dot => syntax("attribute access is not supported")
                .with_label("`.` after an expression")
                .with_help("only `.real`, `.imag` and `.conj()` are; otherwise expressions combine variables with operators and functions"),
            Token::LBracket => syntax("indexing is not supported")
                .with_label("`[` after an expression")
                .with_help("slice the array before passing it in"),
            Token::LParen => syntax("only function names can be called")
                .with_label("call of an expression")
                .with_help("did you forget an operator before `(`?"),
            Token::Assign if self.program => syntax("only a name can be assigned to")
                .with_label("`=` after an expression")
                .with_help("write `name = expression`; to compare, write `==`"),
            Token::Assign => syntax("assignment is not supported in an expression")
                .with_label("`=`")
                .with_help("to compare, write `==`"),
            Token::AssignOp => syntax("assignment is not supported in an expression")
                .with_label("assignment")
                .with_help("write the expression whose value you want"),
            _ => return None,
        })
    }

    /// `prefix := number | True | False | name | call | "(" expression ")" | ("-"|"+"|"~") expression`
    ///
    /// A complete operand is [`Prefix::Value`]; a construct that contains an
    /// expression (a prefix operator, `(`, a call's argument) pushes its
    /// [`Frame`] and returns [`Prefix::Opened`] with the binding power of the
    /// expression that must follow.
    fn prefix(&mut self, stack: &mut Vec<Frame>) -> Result<Prefix> {
        let Some(tok) = self.bump() else {
            self.ran_out();
            return Err(Error::new(
                ErrorKind::Syntax,
                "expected an expression, found end of input",
            )
            .at(self.end_span())
            .with_label("expected an expression"));
        };
        let span = tok.span;
        match tok.token {
            Token::Int => self.int_literal(span).map(Prefix::Value),
            Token::Float => {
                let text = self.text(span).replace('_', "");
                let text = text.as_str();
                match text.parse::<f64>() {
                    Ok(v) => Ok(Prefix::Value(self.push(ExprKind::Float(v), span))),
                    Err(_) => Err(Error::new(
                        ErrorKind::Syntax,
                        format!("invalid float literal `{text}`"),
                    )
                    .at(span)),
                }
            }
            Token::Imaginary => {
                let text = self.text(span).replace('_', "");
                let digits = &text[..text.len() - 1];
                match digits.parse::<f64>() {
                    Ok(v) => Ok(Prefix::Value(self.push(ExprKind::Imag(v), span))),
                    Err(_) => Err(Error::new(
                        ErrorKind::Syntax,
                        format!("invalid imaginary literal `{text}`"),
                    )
                    .at(span)),
                }
            }
            Token::Ident => self.name_or_call(span, stack),
            Token::Minus | Token::Plus | Token::Tilde => {
                let op = match tok.token {
                    Token::Minus => UnaryOp::Neg,
                    Token::Plus => UnaryOp::Pos,
                    _ => UnaryOp::Invert,
                };
                self.need_operand(tok)?;
                stack.push(Frame::Prefix { op, op_span: span });
                Ok(Prefix::Opened(PREFIX_BP))
            }
            Token::LParen => self.open_paren(span, stack),
            Token::RParen if self.open_parens > 0 => Err(Error::new(
                ErrorKind::Syntax,
                "expected an expression, found `)`",
            )
            .at(span)
            .with_label("expected an expression before this")),
            Token::RParen => Err(Error::new(ErrorKind::Syntax, "unmatched `)`")
                .at(span)
                .with_label("no `(` opens this")
                .with_help("remove it or add the missing `(`")),
            Token::String => Err(Error::new(
                ErrorKind::Syntax,
                "string literals are not supported",
            )
            .at(span)
            .with_label("string")
            .with_help("expressions compute on numbers and booleans only")),
            Token::LBracket => Err(Error::new(ErrorKind::Syntax, "lists are not supported")
                .at(span)
                .with_label("`[`")
                .with_help("pass arrays in as variables")),
            other => {
                let mut err = Error::new(
                    ErrorKind::Syntax,
                    format!("expected an expression, found {}", other.describe()),
                )
                .at(span)
                .with_label("expected an expression here");
                if infix_binding_power(other).is_some() {
                    err =
                        err.with_help(format!("{} needs an operand on its left", other.describe()));
                }
                Err(err)
            }
        }
    }

    fn int_literal(&mut self, span: Span) -> Result<ExprId> {
        let text = self.text(span).replace('_', "");
        let (digits, radix) = match text.get(..2) {
            Some("0x" | "0X") => (&text[2..], 16),
            Some("0o" | "0O") => (&text[2..], 8),
            Some("0b" | "0B") => (&text[2..], 2),
            _ => (text.as_str(), 10),
        };
        if radix == 10
            && digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().any(|b| b != b'0')
        {
            return Err(Error::new(
                ErrorKind::Syntax,
                "leading zeros in decimal integer literals are not permitted",
            )
            .at(span)
            .with_help("for an octal literal write `0o…`"));
        }
        match u64::from_str_radix(digits, radix) {
            Ok(v) => Ok(self.push(ExprKind::Int(v), span)),
            Err(_) => Err(Error::new(ErrorKind::Value, "integer literal is too large")
                .at(span)
                .with_label("does not fit in 64 bits")
                .with_help("write it as a float, e.g. `1e20`")),
        }
    }

    fn name_or_call(&mut self, span: Span, stack: &mut Vec<Frame>) -> Result<Prefix> {
        let name = self.text(span).to_string();
        let value = |p: &mut Self, kind| Ok(Prefix::Value(p.push(kind, span)));
        match name.as_str() {
            "True" => return value(self, ExprKind::Bool(true)),
            "False" => return value(self, ExprKind::Bool(false)),
            _ => {}
        }
        if PYTHON_KEYWORDS.contains(&name.as_str()) {
            return Err(keyword_error(&name, span));
        }
        if let Some(open) = self.peek()
            && open.token == Token::LParen
            && !self.ends_statement(open)
        {
            // `call := name "(" [argument ("," argument)* [","]] ")"`,
            // `argument := [name "="] expression`
            self.open_parens += 1;
            let open = self.bump().map_or(span, |t| t.span);
            let call = Box::new(CallFrame {
                func: name,
                func_span: span,
                open,
                args: Vec::new(),
                keywords: Vec::new(),
                keyword: None,
            });
            return Ok(match self.call_next(call)? {
                Call::Done(node) => Prefix::Value(node),
                Call::Next(call) => {
                    stack.push(Frame::Arg(call));
                    Prefix::Opened(0)
                }
            });
        }
        value(self, ExprKind::Name(name))
    }

    /// In a call, after `(` or after an argument and its `,`: the call's
    /// node at `)`, or the call waiting for its next argument (whose
    /// `name=`, if any, is consumed).
    fn call_next(&mut self, mut call: Box<CallFrame>) -> Result<Call> {
        let Some(tok) = self.peek() else {
            return Err(self.unclosed(call.open));
        };
        if tok.token == Token::RParen {
            self.bump();
            self.open_parens -= 1;
            let CallFrame {
                func,
                func_span,
                args,
                keywords,
                ..
            } = *call;
            let span = func_span.to(tok.span);
            return Ok(Call::Done(self.push(
                ExprKind::Call {
                    func,
                    func_span,
                    args,
                    keywords,
                },
                span,
            )));
        }
        call.keyword = None;
        let is_keyword =
            tok.token == Token::Ident && self.peek_at(1).map(|t| t.token) == Some(Token::Assign);
        if is_keyword {
            let name = self.text(tok.span).to_string();
            if PYTHON_KEYWORDS.contains(&name.as_str()) || name == "True" || name == "False" {
                return Err(keyword_error(&name, tok.span));
            }
            if call.keywords.iter().any(|k| k.name == name) {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("keyword argument `{name}` repeated"),
                )
                .at(tok.span)
                .with_label("second time")
                .with_help(format!("give `{name}` once")));
            }
            self.bump();
            let assign = self.bump().map_or(tok.span, |t| t.span);
            if let Some(t) = self.peek()
                && matches!(t.token, Token::RParen | Token::Comma)
            {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("expected a value for keyword argument `{name}`"),
                )
                .at(t.span)
                .with_label("expected a value before this")
                .with_secondary(assign, "after this `=`")
                .with_help(format!("write e.g. `{name}=0`")));
            }
            call.keyword = Some((name, tok.span));
        }
        Ok(Call::Next(call))
    }

    /// A call's argument `value` is parsed: records it, reads the `,` or `)`
    /// after it and goes on with [`Parser::call_next`].
    fn argument(&mut self, mut call: Box<CallFrame>, value: ExprId) -> Result<Call> {
        match call.keyword.take() {
            Some((name, name_span)) => call.keywords.push(Keyword {
                name,
                name_span,
                value,
            }),
            None => {
                if let Some(k) = call.keywords.last() {
                    let span = self.span_of(value);
                    return Err(Error::new(
                        ErrorKind::Syntax,
                        "positional argument follows keyword argument",
                    )
                    .at(span)
                    .with_secondary(k.name_span, "keyword argument given here")
                    .with_help("put positional arguments first"));
                }
                call.args.push(value);
            }
        }
        match self.peek() {
            Some(t) if t.token == Token::Comma => {
                self.bump();
            }
            Some(t) if t.token == Token::RParen => {}
            Some(t) => {
                return Err(Error::new(
                    ErrorKind::Syntax,
                    format!("expected `,` or `)`, found {}", t.token.describe()),
                )
                .at(t.span)
                .with_label("expected `,` or `)`")
                .with_secondary(call.open, "in the call opened here"));
            }
            None => return Err(self.unclosed(call.open)),
        }
        self.call_next(call)
    }

    /// `"(" expression ")"`, after the `(` at `open`: checks that an
    /// expression follows and waits for it.
    fn open_paren(&mut self, open: Span, stack: &mut Vec<Frame>) -> Result<Prefix> {
        self.open_parens += 1;
        if self.peek().is_none() {
            return Err(self.unclosed(open));
        }
        if self.peek().map(|t| t.token) == Some(Token::RParen) {
            let close = self.peek().map_or(open, |t| t.span);
            return Err(Error::new(ErrorKind::Syntax, "empty parentheses")
                .at(open.to(close))
                .with_label("expected an expression inside")
                .with_help("tuples are not supported"));
        }
        stack.push(Frame::Paren { open });
        Ok(Prefix::Opened(0))
    }

    /// The expression `inner` inside the `(` at `open` is parsed: expects `)`.
    fn close_paren(&mut self, open: Span, inner: ExprId) -> Result<ExprId> {
        match self.peek() {
            Some(t) if t.token == Token::RParen => {
                self.bump();
                self.open_parens -= 1;
                // Widen the span to include the parentheses, keep the node.
                let node = &mut self.exprs[inner.index()];
                node.span = open.to(t.span);
                Ok(inner)
            }
            Some(t) if t.token == Token::Comma => {
                Err(Error::new(ErrorKind::Syntax, "tuples are not supported")
                    .at(t.span)
                    .with_label("`,` inside parentheses")
                    .with_secondary(open, "parenthesis opened here")
                    .with_help("an expression has one value; evaluate each part separately"))
            }
            Some(t) => Err(Error::new(
                ErrorKind::Syntax,
                format!("expected `)`, found {}", t.token.describe()),
            )
            .at(t.span)
            .with_label("expected `)` or an operator")
            .with_secondary(open, "unclosed `(` opened here")),
            None => Err(self.unclosed(open)),
        }
    }

    fn unclosed(&mut self, open: Span) -> Error {
        self.ran_out();
        Error::new(ErrorKind::Syntax, "unclosed `(`")
            .at(self.end_span())
            .with_label("expected `)`")
            .with_secondary(open, "unclosed `(` opened here")
            .with_help("add the missing `)`")
    }

    fn unexpected_after_expression(&self, tok: Spanned) -> Error {
        if let Some(err) = self.postfix_error(tok) {
            return err;
        }
        match tok.token {
            Token::RParen => Error::new(ErrorKind::Syntax, "unmatched `)`")
                .at(tok.span)
                .with_label("no `(` opens this")
                .with_help("remove it or add the missing `(`"),
            Token::Comma => Error::new(
                ErrorKind::Syntax,
                "unexpected `,`: an expression has one value",
            )
            .at(tok.span)
            .with_help("evaluate separate expressions separately"),
            other => Error::new(
                ErrorKind::Syntax,
                format!("expected an operator, found {}", other.describe()),
            )
            .at(tok.span)
            .with_label("expected an operator before this"),
        }
    }
}

fn keyword_error(name: &str, span: Span) -> Error {
    let err = Error::new(
        ErrorKind::Syntax,
        format!("`{name}` is a Python keyword and is not supported"),
    )
    .at(span)
    .with_label("keyword");
    match name {
        "not" => err.with_help("write `~x` for logical not"),
        "None" => err.with_help("use `nan` for a missing float value"),
        "lambda" => {
            err.with_help("lambda expressions are not supported; write the expression directly")
        }
        "import" | "from" => {
            err.with_help("nothing is ever imported or executed; only an expression is evaluated")
        }
        "and" => err.with_help("use `&`"),
        "or" => err.with_help("use `|`"),
        "if" => err.with_help("write `where(c, x, y)`"),
        _ => err.with_help("only expressions are supported, not statements"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::Sexpr;

    fn p(s: &str) -> String {
        let ast = parse(s).unwrap();
        Sexpr(&ast, ast.root).to_string()
    }

    #[test]
    fn precedence_follows_python() {
        assert_eq!(p("-a**2"), "(-(a ** 2))");
        assert_eq!(p("2**-1"), "(2 ** (-1))");
        assert_eq!(p("a**b**c"), "(a ** (b ** c))");
        assert_eq!(p("a+b*c"), "(a + (b * c))");
        assert_eq!(p("a-b-c"), "((a - b) - c)");
        assert_eq!(p("a | b ^ c & d"), "(a | (b ^ (c & d)))");
        assert_eq!(p("a < b | c"), "(a < (b | c))");
        assert_eq!(p("a << 1 + 2"), "(a << (1 + 2))");
        assert_eq!(p("-2**-1**2"), "(-(2 ** (-(1 ** 2))))");
        assert_eq!(p("sum(a, axis=-1)"), "sum(a, axis=(-1))");
    }

    #[test]
    fn literals() {
        assert_eq!(p("1."), "1.0");
        assert_eq!(p(".5"), "0.5");
        assert_eq!(p("2E+2"), "200.0");
        assert_eq!(p("0x10"), "16");
        assert_eq!(p("True"), "True");
    }

    #[test]
    fn long_left_chain_is_not_recursion() {
        let s = vec!["a"; 20_000].join("+");
        let ast = parse(&s).unwrap();
        // Printing is iterative too.
        let printed = Sexpr(&ast, ast.root).to_string();
        assert!(printed.starts_with(&"(".repeat(100)));
        assert_eq!(printed.matches('a').count(), 20_000);
    }

    #[test]
    fn extract_takes_one_statement_and_replaces_calls_by_names() {
        let src = "x = 1; y = f(g(x), 2) * sum(x, axis=0)\nx + y";
        let p = parse_program(src).unwrap();
        assert_eq!(p.statements.len(), 3);
        let stmt = &p.statements[1];
        let ast = p.extract(stmt.value, |id| match &p.get(id).kind {
            ExprKind::Call { func, .. } if func == "f" => Some("F".to_string()),
            _ => None,
        });
        assert_eq!(Sexpr(&ast, ast.root).to_string(), "(F * sum(x, axis=0))");
        // Only the nodes reached, children before parents, spans kept.
        assert_eq!(ast.exprs.len(), 5);
        assert!(ast.exprs.iter().all(|e| {
            e.kind
                .children()
                .iter()
                .all(|c| c.index() < ast.exprs.len())
        }));
        let f = ast
            .exprs
            .iter()
            .find(|e| e.kind == ExprKind::Name("F".into()));
        let span = f.unwrap().span;
        assert_eq!(&src[span.range()], "f(g(x), 2)");
        assert_eq!(ast.get(ast.root).span, p.get(stmt.value).span);
        // Thousands of statements: each extraction costs its own statement.
        let big = "a = b + 1\n".repeat(20_000);
        let p = parse_program(&big).unwrap();
        let total: usize = p
            .statements
            .iter()
            .map(|s| p.extract(s.value, |_| None).exprs.len())
            .sum();
        assert_eq!(total, 3 * 20_000);
        assert_eq!(p.free_names(|n| n == "pi"), ["b"]);
    }

    #[test]
    fn deep_nesting_is_not_recursion() {
        // On a 256 KiB stack, far less than the recursive parser needed.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let n = 100_000;
                let s = format!("{}a{}", "(".repeat(n), ")".repeat(n));
                assert_eq!(p(&s), "a");
                let s = format!("{}a", "-".repeat(n));
                let ast = parse(&s).unwrap();
                assert_eq!(ast.exprs.len(), n + 1);
                let s = format!("{}a{}", "f(x, k=".repeat(n / 8), ")".repeat(n / 8));
                let ast = parse(&s).unwrap();
                assert_eq!(ast.exprs.len(), 2 * (n / 8) + 1);
                let s = format!("{}b", "a**-".repeat(n / 4));
                let printed = p(&s);
                assert!(
                    printed.starts_with("(a ** (-(a ** (-(a"),
                    "{}",
                    &printed[..40]
                );
                assert!(printed.ends_with(&"))".repeat(n / 4)));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
