//! The library's public errors.
//!
//! Bad input (a scenario, a flag, an override) is an [`InputError`]: it names
//! the file, the line and column where known, the key path, what was wrong and
//! what is allowed. Everything else is a runtime failure.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with what the user gave us: a scenario file, a flag or an override.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file (or `--flag`) the problem is in.
    pub file: String,
    /// 1-based line and column, where the position is known.
    pub position: Option<(usize, usize)>,
    /// Key path such as `baseline.matrix[2]`; empty for the file as a whole.
    pub key_path: String,
    /// What was wrong and what is allowed.
    pub message: String,
}

impl InputError {
    /// An error about a whole file or flag, without a position.
    pub fn new(file: impl Into<String>, key_path: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            file: file.into(),
            position: None,
            key_path: key_path.into(),
            message: message.into(),
        }
    }

    /// An error at a byte offset of `text`, converted to line:column.
    pub fn at(
        file: impl Into<String>,
        text: &str,
        byte_offset: usize,
        key_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        InputError {
            file: file.into(),
            position: Some(line_column(text, byte_offset)),
            key_path: key_path.into(),
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, byte_offset: usize) -> (usize, usize) {
    let mut offset = byte_offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if !self.key_path.is_empty() {
            write!(f, ": {}", self.key_path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// Any failure of the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input: exit status 2.
    #[error("{0}")]
    Input(#[from] InputError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The run was interrupted before it finished; nothing was written.
    #[error("interrupted: no results were written")]
    Interrupted,
    /// Any other runtime failure.
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit status for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            _ => 1,
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_column(text, 9), (2, 3));
    }

    #[test]
    fn display_names_file_position_and_key() {
        let e = InputError::at("s.toml", "x\ny", 2, "baseline.matrix[2]", "bad");
        assert_eq!(e.to_string(), "s.toml:2:1: baseline.matrix[2]: bad");
        assert_eq!(Error::from(e).exit_code(), 2);
    }
}
