//! Errors: [`ParseError`] for a description, [`AttributeError`] for one typed attribute,
//! [`TextError`] for a value given to a constructor.

use thiserror::Error;

/// A value that cannot be put in a description.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TextError {
    /// Text holds NUL, CR or LF, which would break the line.
    #[error("NUL, CR or LF in SDP text")]
    LineBreak,
    /// A token holds a character outside `token-char` (or is empty).
    #[error("not an SDP token")]
    NotAToken,
    /// A number or address out of its range.
    #[error("value out of range")]
    OutOfRange,
}

/// Why a description was rejected, and on which line (1-based; 0 when it concerns the whole
/// description, such as a missing `t=` line).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", if *line == 0 { (*reason).to_string() } else { format!("line {line}: {reason}") })]
pub struct ParseError {
    line: usize,
    reason: &'static str,
}

impl ParseError {
    pub(crate) const fn new(line: usize, reason: &'static str) -> Self {
        Self { line, reason }
    }

    /// The 1-based line number, or 0 for the description as a whole.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// A typed attribute whose value does not match its grammar.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a={name}: {reason}")]
pub struct AttributeError {
    name: &'static str,
    reason: &'static str,
}

impl AttributeError {
    pub(crate) const fn new(name: &'static str, reason: &'static str) -> Self {
        Self { name, reason }
    }

    /// The attribute.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What is wrong.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}
