//! Tokens: the expression text cut into numbers, names, operators and punctuation.
//!
//! Some tokens exist only so the parser can reject them with a helpful message
//! (`@`, `.`, `[`, string literals, …). Anything else the lexer does not know is
//! a syntax error pointing at that character.
//!
//! Whitespace and `#` comments (to the end of the line) are skipped. Newlines
//! are not tokens: where they matter (they end a statement of a program), the
//! parser looks at the text between two tokens ([`newline_between`]).

use logos::Logos;

use crate::error::{Error, ErrorKind, Result, Span};

/// One token kind. The text of a token is `source[span]`.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f]+")]
// A comment is read to the end of its line on purpose (the greedy match).
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
pub enum Token {
    /// Decimal, hexadecimal (`0x1F`), octal (`0o17`) or binary (`0b101`) integer literal.
    #[regex(r"[0-9](_?[0-9])*")]
    #[regex(r"0[xX](_?[0-9a-fA-F])+|0[oO](_?[0-7])+|0[bB](_?[01])+")]
    Int,
    /// Float literal: `1.`, `.5`, `1e-3`, `2E+2`, `1_000.5` (underscores as in Python).
    #[regex(r"([0-9](_?[0-9])*\.([0-9](_?[0-9])*)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?")]
    #[regex(r"[0-9](_?[0-9])*[eE][+-]?[0-9](_?[0-9])*")]
    Float,
    /// Imaginary literal (`2j`): rejected until complex numbers are supported.
    #[regex(r"([0-9](_?[0-9])*|[0-9](_?[0-9])*\.([0-9](_?[0-9])*)?|\.[0-9](_?[0-9])*)([eE][+-]?[0-9](_?[0-9])*)?[jJ]")]
    Imaginary,
    /// A name: variable, function, constant or keyword.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// A string literal (rejected).
    #[regex(r#""([^"\\\n]|\\.)*"|'([^'\\\n]|\\.)*'"#)]
    String,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `**`
    #[token("**")]
    StarStar,
    /// `/`
    #[token("/")]
    Slash,
    /// `//`
    #[token("//")]
    SlashSlash,
    /// `%`
    #[token("%")]
    Percent,
    /// `<<`
    #[token("<<")]
    Shl,
    /// `>>`
    #[token(">>")]
    Shr,
    /// `&`
    #[token("&")]
    Amp,
    /// `|`
    #[token("|")]
    Pipe,
    /// `^`
    #[token("^")]
    Caret,
    /// `~`
    #[token("~")]
    Tilde,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `==`
    #[token("==")]
    EqEq,
    /// `!=`
    #[token("!=")]
    Ne,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `>`
    #[token(">")]
    Gt,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `,`
    #[token(",")]
    Comma,
    /// `=` (keyword arguments only)
    #[token("=")]
    Assign,
    /// `@` (matrix multiplication; reserved)
    #[token("@")]
    At,
    /// `.` (attribute access; rejected)
    #[token(".")]
    Dot,
    /// `[` (indexing; rejected)
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `:`
    #[token(":")]
    Colon,
    /// `;`
    #[token(";")]
    Semicolon,
    /// Augmented assignment and other Python operators that are never valid here.
    #[token("+=")]
    #[token("-=")]
    #[token("*=")]
    #[token("/=")]
    #[token(":=")]
    #[token("->")]
    #[token("//=")]
    #[token("**=")]
    #[token("%=")]
    #[token("&=")]
    #[token("|=")]
    #[token("^=")]
    #[token("<<=")]
    #[token(">>=")]
    #[token("@=")]
    AssignOp,
}

impl Token {
    /// How the token is written in messages (`` `**` ``, `a number`).
    pub fn describe(self) -> &'static str {
        match self {
            Token::Int | Token::Float => "a number",
            Token::Imaginary => "an imaginary number",
            Token::Ident => "a name",
            Token::String => "a string",
            Token::Plus => "`+`",
            Token::Minus => "`-`",
            Token::Star => "`*`",
            Token::StarStar => "`**`",
            Token::Slash => "`/`",
            Token::SlashSlash => "`//`",
            Token::Percent => "`%`",
            Token::Shl => "`<<`",
            Token::Shr => "`>>`",
            Token::Amp => "`&`",
            Token::Pipe => "`|`",
            Token::Caret => "`^`",
            Token::Tilde => "`~`",
            Token::Lt => "`<`",
            Token::Le => "`<=`",
            Token::EqEq => "`==`",
            Token::Ne => "`!=`",
            Token::Ge => "`>=`",
            Token::Gt => "`>`",
            Token::LParen => "`(`",
            Token::RParen => "`)`",
            Token::Comma => "`,`",
            Token::Assign => "`=`",
            Token::At => "`@`",
            Token::Dot => "`.`",
            Token::LBracket => "`[`",
            Token::RBracket => "`]`",
            Token::LBrace => "`{`",
            Token::RBrace => "`}`",
            Token::Colon => "`:`",
            Token::Semicolon => "`;`",
            Token::AssignOp => "an assignment operator",
        }
    }
}

/// A token and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned {
    /// The kind.
    pub token: Token,
    /// The bytes it covers.
    pub span: Span,
}

/// Cuts `source` into tokens, or reports the first character that starts no token.
pub fn tokenize(source: &str) -> Result<Vec<Spanned>> {
    let mut lexer = Token::lexer(source);
    let mut tokens = Vec::new();
    while let Some(token) = lexer.next() {
        let span = Span::from(lexer.span());
        match token {
            Ok(token) => tokens.push(Spanned { token, span }),
            Err(()) => return Err(unknown_character(source, span.start)),
        }
    }
    Ok(tokens)
}

/// Whether a line break separates the end of `before` from the start of
/// `after`: the text between two tokens holds only whitespace and comments, and
/// a comment never contains one, so any `\n` there is a line break.
pub fn newline_between(source: &str, before: Span, after: Span) -> bool {
    source
        .get(before.end..after.start)
        .is_some_and(|gap| gap.contains('\n'))
}

fn unknown_character(source: &str, start: usize) -> Error {
    let ch = source[start..].chars().next().unwrap_or(' ');
    let span = Span::new(start, start + ch.len_utf8());
    let (message, help) = match ch {
        '\'' | '"' => (
            "unterminated string literal".to_string(),
            "string literals are not supported in expressions anyway".to_string(),
        ),
        '!' => (
            "unexpected character `!`".to_string(),
            "for 'not' write `~x`; for 'not equal' write `!=`".to_string(),
        ),
        '$' | '?' | '`' | '\\' => (
            format!("unexpected character `{ch}`"),
            "expressions use Python syntax: numbers, names, operators and function calls"
                .to_string(),
        ),
        c if !c.is_ascii() => (
            format!("unexpected non-ASCII character `{c}` (U+{:04X})", c as u32),
            "names and operators must be ASCII".to_string(),
        ),
        c => (
            format!("unexpected character {c:?}"),
            "expressions use Python syntax: numbers, names, operators and function calls"
                .to_string(),
        ),
    };
    Error::new(ErrorKind::Syntax, message)
        .at(span)
        .with_label("not valid here")
        .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Token> {
        tokenize(s).unwrap().into_iter().map(|t| t.token).collect()
    }

    #[test]
    fn numbers() {
        use Token::*;
        assert_eq!(
            kinds("42 1. .5 1e-3 2E+2 0x1F 3j"),
            [Int, Float, Float, Float, Float, Int, Imaginary]
        );
    }

    #[test]
    fn operators_longest_match() {
        use Token::*;
        assert_eq!(
            kinds("a**-b//c<=d"),
            [Ident, StarStar, Minus, Ident, SlashSlash, Ident, Le, Ident]
        );
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        use Token::*;
        assert_eq!(kinds("a # b ( c\n+ d # e"), [Ident, Plus, Ident]);
        assert_eq!(kinds("# only a comment"), []);
        // In a string, `#` is part of the string.
        assert_eq!(kinds("'#' a"), [String, Ident]);
        let source = "a # x\nb";
        let t = tokenize(source).unwrap();
        assert!(newline_between(source, t[0].span, t[1].span));
        assert!(!newline_between("a  b", Span::new(0, 1), Span::new(3, 4)));
    }

    #[test]
    fn non_ascii_is_an_error_covering_the_whole_character() {
        let e = tokenize("a + λ").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(4, 6)));
        assert!(e.message().contains("non-ASCII"));
    }
}
