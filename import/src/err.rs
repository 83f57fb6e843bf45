//! Why a file could not be imported at all (a file-level error), as opposed to one activity of
//! a readable file that maps to no workout ([`crate::Skipped`]).
//!
//! Messages are lowercase sentences that say what is wrong with the file in a user's words;
//! the CLI prefixes them with the file's name.

/// A file that gives no workout because it cannot be read as a device file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// A name that does not end in `.fit`, `.gpx` or `.tcx`.
    #[error("unknown file type: the name must end in .fit, .gpx or .tcx")]
    UnknownType,
    /// The extension says one format, the content another.
    #[error("the name ends in .{extension} but the content is a {found} file")]
    WrongExtension {
        /// The extension as written (lowercase).
        extension: String,
        /// The format the content is in.
        found: &'static str,
    },
    /// The FIT decoder refused the bytes (truncated, corrupt, not FIT at all).
    #[error("not a readable FIT file: {0}")]
    Fit(String),
    /// The FIT file's CRC does not match its content.
    #[error("the FIT file fails its CRC check (stored {stored:#06x}, computed {computed:#06x}): it is corrupt or was changed")]
    Crc {
        /// The CRC stored in the file.
        stored: u16,
        /// The CRC of the bytes read.
        computed: u16,
    },
    /// A FIT file of another type (settings, weight scale, workout plan).
    #[error("not an activity: the FIT file's type is `{0}` (only activity files hold workouts)")]
    NotActivity(String),
    /// Not well-formed XML, or truncated.
    #[error("not valid XML: {0}")]
    Xml(String),
    /// XML of another kind than the extension's format.
    #[error("not a {expected} file: its root element is `<{root}>`")]
    WrongRoot {
        /// `GPX` or `TCX`.
        expected: &'static str,
        /// The root element's name.
        root: String,
    },
    /// Nothing in the file is an activity (no track, no `<Activity>`).
    #[error("no activity in the file: {0}")]
    NoActivity(&'static str),
    /// A track whose points carry no time cannot give a workout's start and end.
    #[error("no track point has a time (`<time>`), so the workouts' start and end are unknown")]
    NoTimes,
}
