//! Writing to stdout and stderr: diagnostics as text or JSON, and colour only on a terminal.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::input::Source;
use crate::Failure;

/// Whether stderr is a terminal that wants colour (`NO_COLOR` turns it off).
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Whether stdout is a terminal that wants colour.
pub fn stdout_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Prints a source's diagnostics on stderr, rustc style.
pub fn print_diagnostics(source: &Source) {
    if source.checked.diagnostics.is_empty() {
        return;
    }
    eprint!(
        "{}",
        rules_dsl::render(
            &source.checked.diagnostics,
            &source.checked.text,
            &source.name(),
            stderr_color()
        )
    );
}

/// Writes text to stdout; a closed pipe is not an error worth a panic.
pub fn stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Usage(format!("cannot write the output: {e}"))),
    }
}

/// Serializes to JSON (infallible for our types; a failure is reported, not panicked on).
pub fn to_json<T: Serialize>(value: &T, pretty: bool) -> Result<String, Failure> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    text.map_err(|e| Failure::Usage(format!("cannot write JSON: {e}")))
}
