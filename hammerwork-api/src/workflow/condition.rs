//! Job conditions: a small expression language over the parents' JSON results.
//!
//! ```text
//! expr    := or
//! or      := and ( "||" and )*
//! and     := unary ( "&&" unary )*
//! unary   := "!" unary | compare
//! compare := operand ( ("==" | "!=" | "<" | "<=" | ">" | ">=") operand )?
//! operand := path | string | number | "true" | "false" | "null" | "(" expr ")"
//! path    := ident ( "." ident )*        e.g. validation.status
//! string  := '...' | "..."               with \ escapes for the quote and \
//! ```
//!
//! A path that does not resolve is `null`. `==`/`!=` compare JSON values
//! (numbers by value); `<`..`>=` compare two numbers or two strings and are
//! false otherwise. `&&`, `||` and `!` take truthiness: `null`, `false`, `0`
//! and `""` are false. `!` and parentheses nest at most 64 deep; chains of
//! `&&` and `||` are unbounded. Hand-written because the usual expression crates either
//! lack single-quoted strings and `null`, or bring a far larger language.

use std::fmt;

use serde_json::Value;

use crate::Error;

/// A parsed condition, ready to evaluate many times.
///
/// ```
/// use hammerwork_api::workflow::Condition;
/// use serde_json::json;
///
/// let c = Condition::parse("validation_status == 'valid' && rows > 0").unwrap();
/// assert!(c.evaluate(&json!({"validation_status": "valid", "rows": 3})));
/// assert!(!c.evaluate(&json!({"validation_status": "invalid", "rows": 3})));
/// let err = Condition::parse("status == ").unwrap_err();
/// assert!(err.to_string().contains("position 10"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    source: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Literal(Value),
    Path(Vec<String>),
    Not(Box<Expr>),
    /// Chains are flat, so a long `a && b && ...` is a loop, not recursion.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Condition {
    /// Parses `source`; a syntax error is [`Error::InvalidCondition`] with the
    /// byte position where it was found.
    pub fn parse(source: &str) -> Result<Self, Error> {
        let tokens = lex(source)?;
        let mut parser = Parser {
            tokens,
            pos: 0,
            len: source.len(),
            depth: 0,
        };
        let expr = parser.or()?;
        if let Some((at, token)) = parser.tokens.get(parser.pos) {
            return Err(invalid(*at, format!("unexpected {token}")));
        }
        Ok(Condition {
            source: source.to_string(),
            expr,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Evaluates against `context` (a JSON object whose fields the paths name).
    pub fn evaluate(&self, context: &Value) -> bool {
        truthy(&eval(&self.expr, context))
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// How deep `!` and parentheses may nest.
const MAX_NESTING: usize = 64;

fn invalid(pos: usize, msg: impl Into<String>) -> Error {
    Error::InvalidCondition {
        pos,
        msg: msg.into(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
    LParen,
    RParen,
    Dot,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => write!(f, "`{s}`"),
            Token::Str(s) => write!(f, "string {s:?}"),
            Token::Num(n) => write!(f, "number {n}"),
            Token::Op(op) => write!(f, "`{op}`"),
            Token::LParen => f.write_str("`(`"),
            Token::RParen => f.write_str("`)`"),
            Token::Dot => f.write_str("`.`"),
        }
    }
}

fn lex(src: &str) -> Result<Vec<(usize, Token)>, Error> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => tokens.push((start, Token::LParen)),
            b')' => tokens.push((start, Token::RParen)),
            b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                tokens.push((start, Token::Dot))
            }
            b'\'' | b'"' => {
                let quote = c;
                let mut out = String::new();
                let mut chars = src[i + 1..].char_indices();
                loop {
                    match chars.next() {
                        None => return Err(invalid(start, "unterminated string")),
                        Some((_, '\\')) => match chars.next() {
                            Some((_, ch)) => out.push(ch),
                            None => return Err(invalid(start, "unterminated string")),
                        },
                        Some((off, ch)) if ch as u32 == u32::from(quote) => {
                            i = i + 1 + off;
                            break;
                        }
                        Some((_, ch)) => out.push(ch),
                    }
                }
                tokens.push((start, Token::Str(out)));
            }
            b'0'..=b'9' | b'-' | b'.' => {
                let mut end = i + 1;
                while end < bytes.len() && matches!(bytes[end], b'0'..=b'9' | b'.' | b'e' | b'E') {
                    end += 1;
                }
                let text = &src[i..end];
                let n: f64 = text
                    .parse()
                    .map_err(|_| invalid(start, format!("bad number {text:?}")))?;
                tokens.push((start, Token::Num(n)));
                i = end;
                continue;
            }
            b'=' | b'!' | b'<' | b'>' | b'&' | b'|' => {
                let two = src.get(i..i + 2).unwrap_or("");
                let op = match two {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    "&&" => "&&",
                    "||" => "||",
                    _ => match c {
                        b'<' => "<",
                        b'>' => ">",
                        b'!' => "!",
                        _ => return Err(invalid(start, format!("unexpected `{}`", c as char))),
                    },
                };
                tokens.push((start, Token::Op(op)));
                i += op.len();
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut end = i + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                tokens.push((start, Token::Ident(src[i..end].to_string())));
                i = end;
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(invalid(start, format!("unexpected `{ch}`")));
            }
        }
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    len: usize,
    /// `!` and `(` levels open at `pos`.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(at, _)| *at)
    }

    fn eat_op(&mut self, op: &'static str) -> bool {
        if self.peek() == Some(&Token::Op(op)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Opens one more `!` or `(` level: past [`MAX_NESTING`] the input is
    /// refused (parsing, evaluating and dropping recurse once per level).
    fn nest(&mut self) -> Result<(), Error> {
        if self.depth == MAX_NESTING {
            return Err(invalid(
                self.at(),
                format!("`!` and `(` nested deeper than {MAX_NESTING}"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, Error> {
        let mut terms = vec![self.and()?];
        while self.eat_op("||") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, Error> {
        let mut terms = vec![self.unary()?];
        while self.eat_op("&&") {
            terms.push(self.unary()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        if self.peek() == Some(&Token::Op("!")) {
            self.nest()?;
            self.pos += 1;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, Error> {
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Token::Op("==")) => CmpOp::Eq,
            Some(Token::Op("!=")) => CmpOp::Ne,
            Some(Token::Op("<")) => CmpOp::Lt,
            Some(Token::Op("<=")) => CmpOp::Le,
            Some(Token::Op(">")) => CmpOp::Gt,
            Some(Token::Op(">=")) => CmpOp::Ge,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(Box::new(left), op, Box::new(right)))
    }

    fn operand(&mut self) -> Result<Expr, Error> {
        let at = self.at();
        let Some(token) = self.peek().cloned() else {
            return Err(invalid(at, "expected a value, found the end"));
        };
        if token == Token::LParen {
            self.nest()?;
        }
        self.pos += 1;
        match token {
            Token::Str(s) => Ok(Expr::Literal(Value::String(s))),
            Token::Num(n) => Ok(Expr::Literal(
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
            )),
            Token::Ident(word) => match word.as_str() {
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                _ => {
                    let mut path = vec![word];
                    while self.peek() == Some(&Token::Dot) {
                        self.pos += 1;
                        let at = self.at();
                        match self.peek().cloned() {
                            Some(Token::Ident(next)) => {
                                self.pos += 1;
                                path.push(next);
                            }
                            _ => return Err(invalid(at, "expected a field name after `.`")),
                        }
                    }
                    Ok(Expr::Path(path))
                }
            },
            Token::LParen => {
                let inner = self.or()?;
                if self.peek() != Some(&Token::RParen) {
                    return Err(invalid(self.at(), "expected `)`"));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            other => Err(invalid(at, format!("expected a value, found {other}"))),
        }
    }
}

fn eval(expr: &Expr, ctx: &Value) -> Value {
    match expr {
        Expr::Literal(v) => v.clone(),
        Expr::Path(path) => path
            .iter()
            .try_fold(ctx, |v, key| v.get(key))
            .cloned()
            .unwrap_or(Value::Null),
        Expr::Not(e) => Value::Bool(!truthy(&eval(e, ctx))),
        Expr::And(terms) => Value::Bool(terms.iter().all(|e| truthy(&eval(e, ctx)))),
        Expr::Or(terms) => Value::Bool(terms.iter().any(|e| truthy(&eval(e, ctx)))),
        Expr::Compare(a, op, b) => Value::Bool(compare(&eval(a, ctx), *op, &eval(b, ctx))),
    }
}

fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        CmpOp::Eq => ordering.map_or(a == b, |o| o == Ordering::Equal),
        CmpOp::Ne => ordering.map_or(a != b, |o| o != Ordering::Equal),
        CmpOp::Lt => ordering == Some(Ordering::Less),
        CmpOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => ordering == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(src: &str, ctx: Value) -> bool {
        Condition::parse(src).unwrap().evaluate(&ctx)
    }

    #[test]
    fn comparisons_and_literals() {
        let ctx = json!({"s": "valid", "n": 3, "f": 2.5, "b": true, "z": null, "nested": {"x": {"y": 7}}});
        assert!(check("s == 'valid'", ctx.clone()));
        assert!(check("s == \"valid\"", ctx.clone()));
        assert!(check("s != 'invalid'", ctx.clone()));
        assert!(check(
            "n == 3 && n >= 3 && n <= 3 && n > 2 && n < 4",
            ctx.clone()
        ));
        assert!(check("n == 3.0", ctx.clone()));
        assert!(check("f > -1 && f < 2.6", ctx.clone()));
        assert!(check("b == true && b", ctx.clone()));
        assert!(check("z == null && missing == null", ctx.clone()));
        assert!(check("nested.x.y == 7", ctx.clone()));
        assert!(check("'abc' < 'abd'", ctx.clone()));
        assert!(!check("s > 3", ctx.clone()), "mixed types never order");
    }

    #[test]
    fn logic_and_precedence() {
        let ctx = json!({"a": true, "b": false});
        assert!(
            check("a || b && b", ctx.clone()),
            "&& binds tighter than ||"
        );
        assert!(!check("(a || b) && b", ctx.clone()));
        assert!(check("!b", ctx.clone()));
        assert!(check("!(a && b)", ctx.clone()));
        assert!(check("!!a", ctx.clone()));
        assert!(!check("missing", ctx));
    }

    #[test]
    fn errors_name_the_position() {
        let pos = |src: &str| match Condition::parse(src) {
            Err(Error::InvalidCondition { pos, .. }) => pos,
            other => panic!("{src:?} parsed: {other:?}"),
        };
        assert_eq!(pos("status == "), 10);
        assert_eq!(pos("status = 'x'"), 7);
        assert_eq!(pos("(a == 1"), 7);
        assert_eq!(pos("a == 'open"), 5);
        assert_eq!(pos("a == 1 b"), 7);
        assert_eq!(pos("a. == 1"), 3);
        assert_eq!(pos("a == #"), 5);
        assert_eq!(pos(""), 0);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for src in [
            format!("{}a", "!".repeat(100_000)),
            format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000)),
        ] {
            match Condition::parse(&src) {
                Err(Error::InvalidCondition { pos, msg }) => {
                    assert_eq!(pos, MAX_NESTING, "{msg}");
                    assert!(msg.contains("nested deeper than 64"), "{msg}");
                }
                other => panic!("parsed: {:?}", other.map(|_| ())),
            }
        }
        let nested = format!("{}a{}", "(!".repeat(32), ")".repeat(32));
        assert!(Condition::parse(&nested).is_ok(), "64 levels are allowed");
    }

    #[test]
    fn long_chains_parse_and_evaluate() {
        let ctx = json!({"a": true, "b": false});
        let all = vec!["a"; 200_000].join(" && ");
        assert!(check(&all, ctx.clone()));
        let any = format!("{} || a", vec!["b"; 200_000].join(" || "));
        assert!(check(&any, ctx.clone()));
        let mixed = vec!["a && b"; 100_000].join(" || ");
        assert!(!check(&mixed, ctx));
    }
}
