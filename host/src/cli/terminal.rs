//! Text for a terminal: whatever a guest wrote (job names, log lines, errors,
//! results, record values…) is shown, never obeyed. A control character could
//! otherwise move the cursor, hide lines (`ESC[8m`), set the clipboard (OSC 52)
//! or print a line of its own that looks like one of the CLI's; bidi overrides
//! could show text in another order than it is.
//!
//! [`line`] is for one field on one line (a table cell, a name, a log line);
//! [`block`] is the last pass over a whole human output, which keeps only the
//! line breaks and tabs the CLI wrote. [`Grid`] is a table whose every cell
//! goes through [`line`], so that no command can forget it.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use std::borrow::Cow;
use std::fmt::{self, Write};

/// Whether `c` must be shown escaped; `breaks`: line breaks and tabs too.
fn hidden(c: char, breaks: bool) -> bool {
    match c {
        '\n' | '\t' => breaks,
        // C0 (ESC, BEL, CR, backspace…), DEL and C1 (CSI as one byte, OSC…).
        '\0'..='\x1f' | '\x7f'..='\u{9f}' => true,
        // Bidi embeddings, overrides and isolates: they reorder what follows.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        // Line and paragraph separators: a line break to some readers.
        '\u{2028}' | '\u{2029}' => breaks,
        _ => false,
    }
}

/// Write `text` to `out` with every character that [`hidden`] names escaped:
/// `\n`, `\t`, `\r`, `\x1b` (C0 and DEL), `\u{9b}` (C1, bidi, separators).
fn escape_into(out: &mut impl Write, text: &str, breaks: bool) -> fmt::Result {
    let mut plain = 0;
    for (at, c) in text.char_indices() {
        if !hidden(c, breaks) {
            continue;
        }
        out.write_str(&text[plain..at])?;
        plain = at + c.len_utf8();
        match c {
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            '\r' => out.write_str("\\r")?,
            '\0'..='\x1f' | '\x7f' => write!(out, "\\x{:02x}", u32::from(c))?,
            _ => write!(out, "\\u{{{:x}}}", u32::from(c))?,
        }
    }
    out.write_str(&text[plain..])
}

fn escaped(text: &str, breaks: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| hidden(c, breaks)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    // Writing to a String cannot fail.
    let _ = escape_into(&mut out, text, breaks);
    Cow::Owned(out)
}

/// `text` as one line: every control character, line break and tab escaped,
/// so it can neither act on the terminal nor start a line of its own.
pub fn line(text: &str) -> Cow<'_, str> {
    escaped(text, true)
}

/// `text` as written, but for its line breaks and tabs: every other control
/// character escaped. The last pass over a whole human output.
pub fn block(text: &str) -> Cow<'_, str> {
    escaped(text, false)
}

/// A [`fmt::Write`] that escapes what goes through it as [`line`] does (for
/// text that only exists as `format_args!`, such as tracing's fields).
pub struct LineWriter<'a, W: Write>(pub &'a mut W);

impl<W: Write> Write for LineWriter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s, true)
    }
}

/// A table cell: its text is escaped as one line, or as several lines each
/// escaped on its own ([`Cell::lines`]).
pub struct Cell(String);

impl Cell {
    /// A cell of several lines (the breaks are the CLI's, the lines escaped).
    pub fn lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> Cell {
        let lines: Vec<String> = lines
            .into_iter()
            .map(|l| line(l.as_ref()).into_owned())
            .collect();
        Cell(lines.join("\n"))
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        match line(&text) {
            Cow::Borrowed(_) => Cell(text),
            Cow::Owned(escaped) => Cell(escaped),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell(line(text).into_owned())
    }
}

impl From<&String> for Cell {
    fn from(text: &String) -> Cell {
        Cell::from(text.as_str())
    }
}

/// A table whose cells are always escaped (see [`Cell`]).
pub struct Grid(Table);

impl Grid {
    /// An empty table with these column names.
    pub fn new(header: &[&str]) -> Grid {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
        Grid(t)
    }

    /// Add a row.
    pub fn row<C: Into<Cell>>(&mut self, cells: impl IntoIterator<Item = C>) {
        let cells: Vec<String> = cells.into_iter().map(|c| c.into().0).collect();
        self.0.add_row(cells);
    }
}

impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Whether `text` holds nothing a terminal would act on: no C0 but line
/// breaks and tabs, no DEL, C1 or bidi control.
#[cfg(test)]
pub fn inert(text: &str) -> bool {
    !text.chars().any(|c| hidden(c, false))
}

/// A time in ms since the epoch as tables show it (UTC, to the second);
/// `-` for none.
pub fn time(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        let hostile = "a\x1b[8mb\x07c\rd\x08e\u{9b}31mf\u{202e}g\u{2066}h\x7fi\0";
        assert_eq!(
            line(hostile),
            "a\\x1b[8mb\\x07c\\rd\\x08e\\u{9b}31mf\\u{202e}g\\u{2066}h\\x7fi\\x00"
        );
        assert_eq!(line("x\n  network: none\ty"), "x\\n  network: none\\ty");
        assert_eq!(
            block("x\n  network: none\ty\x1b]52;c;aGk=\x07"),
            "x\n  network: none\ty\\x1b]52;c;aGk=\\x07"
        );
        assert!(inert(&block(hostile)) && inert(&line(hostile)));
        assert!(matches!(line("plain ünïcode → ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_cell_of_a_grid_is_escaped() {
        let mut grid = Grid::new(&["name", "lines"]);
        grid.row([
            Cell::from("job\n  network: none\x1b[8m"),
            Cell::lines(["a\x1b]52;c;aGk=\x07", "b"]),
        ]);
        let text = grid.to_string();
        assert!(inert(&text), "{text}");
        assert!(text.contains("job\\n  network: none\\x1b[8m"), "{text}");
        assert!(!text.lines().any(|l| l.trim_start().starts_with("network")));
    }

    #[test]
    fn the_line_writer_escapes_formatted_text() {
        let mut out = String::new();
        write!(LineWriter(&mut out), "{}", format_args!("x{}y", "\n\x1b")).unwrap();
        assert_eq!(out, "x\\n\\x1by");
    }
}
