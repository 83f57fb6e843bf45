//! Workouts from device files (data.md, "Imported workouts"): FIT activities from watches and
//! bike computers, GPX and TCX tracks.
//!
//! ```text
//! bytes ─► format (extension, checked against the content) ─► fit / gpx / tcx reader ─► Activity
//!       ─► mapping (sport or exercise category → catalog exercise) ─► workout JSON
//!       ─► rules_core::records::parse_workout (the one validator of workout records) ─► Workout
//! ```
//!
//! - [`fit`] reads FIT with `fitparser` (CRC checked): each `session` message is an activity,
//!   `record` messages fill what the session lacks, a strength session's active `set` messages
//!   give one activity per exercise category.
//! - [`gpx`] and [`tcx`] read XML with `quick-xml` through [`xml`] (a bounded element tree):
//!   each `<trk>` or `<Activity>` is an activity, distance from the points when no total is
//!   given, heart rate from the extensions.
//! - [`mapping`]: the sport and exercise-category tables, extended by `--map`.
//!
//! **Invariant:** any byte string gives workouts or an [`ImportError`], never a panic (a
//! property test and one fuzz target per reader check it).
//!
//! **Invariant:** an imported workout is a workout record like any other: it goes through
//! [`rules_core::records::parse_workout`], so every rule of workout records (required fields,
//! bounds) holds for it; an activity the validator rejects is reported with its reason.
//!
//! **Invariant:** the output is a function of the file's bytes, the user and the mapping: ids
//! are `imp-` and the first 16 hex digits of the SHA-256 of the bytes (`-N` for the N-th of
//! several), and a message's `ts` is its workout's end, so importing a file twice gives the
//! same messages, byte for byte, and the pipeline sees resends.
//!
//! Decisions where the spec is silent:
//!
//! - N counts the file's activities in file order whether they map or not (a triathlon's ride is
//!   `-3` after its swim and first transition), so a `--map` that maps more keeps every id.
//! - A strength session's workouts carry sets and times only: the session's calories and heart
//!   rate are not split between exercises.
//! - FIT times are UTC instants, written with the device's offset when the `activity` message
//!   gives its local time (`local_timestamp`), in UTC otherwise; GPX and TCX times keep the
//!   offset they are written with, and a time without one is UTC (their schemas say so).

pub mod err;
pub mod fit;
pub mod gpx;
pub mod mapping;
pub mod tcx;
mod track;
pub mod xml;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rules_core::records::{self, Workout, WorkoutSet};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use err::ImportError;
pub use mapping::{MapError, Mapping, Sport};

/// The format of a device file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Garmin's Flexible and Interoperable Data Transfer (binary).
    Fit,
    /// GPS Exchange Format (XML).
    Gpx,
    /// Training Center XML.
    Tcx,
}

impl Format {
    /// The `source` of a `workout` message: `fit`, `gpx` or `tcx`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Fit => "fit",
            Format::Gpx => "gpx",
            Format::Tcx => "tcx",
        }
    }

    /// The format a file name's extension names (case-insensitive).
    pub fn from_name(name: &str) -> Option<Format> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "fit" => Some(Format::Fit),
            "gpx" => Some(Format::Gpx),
            "tcx" => Some(Format::Tcx),
            _ => None,
        }
    }

    /// The format the bytes are in, when they show it: the FIT header's `.FIT`, or the root
    /// element of XML.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.get(8..12) == Some(b".FIT".as_slice()) {
            return Some(Format::Fit);
        }
        let head = bytes.get(..bytes.len().min(4096)).unwrap_or(bytes);
        let text = String::from_utf8_lossy(head);
        let start = text.trim_start_matches('\u{feff}').trim_start();
        if !start.starts_with('<') {
            return None;
        }
        if text.contains("<gpx") {
            Some(Format::Gpx)
        } else if text.contains("<TrainingCenterDatabase") {
            Some(Format::Tcx)
        } else {
            None
        }
    }

    fn title(self) -> &'static str {
        match self {
            Format::Fit => "FIT",
            Format::Gpx => "GPX",
            Format::Tcx => "TCX",
        }
    }
}

/// What an activity of a file is, before mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A session or track of a sport.
    Sport(Sport),
    /// The sets of one exercise category of a strength session (`None`: sets without one).
    Exercise(Option<String>),
}

/// One activity read from a file: a candidate workout.
#[derive(Clone, Debug, PartialEq)]
pub struct Activity {
    /// What it is called in reports (`session 2`, `track 1`, `exercise curl of session 1`).
    pub label: String,
    /// What it maps from.
    pub kind: Kind,
    /// Start.
    pub start: Option<DateTime<FixedOffset>>,
    /// End.
    pub end: Option<DateTime<FixedOffset>>,
    /// Distance in metres.
    pub distance_m: Option<f64>,
    /// Energy in kcal.
    pub calories_kcal: Option<f64>,
    /// Mean heart rate.
    pub avg_hr_bpm: Option<f64>,
    /// Active sets.
    pub sets: Vec<WorkoutSet>,
    /// Why the reader already knows it cannot be a workout (e.g. a strength session without
    /// active sets).
    pub problem: Option<String>,
}

impl Activity {
    /// An activity with nothing read yet.
    pub fn new(label: String, kind: Kind) -> Activity {
        Activity {
            label,
            kind,
            start: None,
            end: None,
            distance_m: None,
            calories_kcal: None,
            avg_hr_bpm: None,
            sets: Vec::new(),
            problem: None,
        }
    }
}

/// An activity of a readable file that gives no workout, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The activity (`session 2`).
    pub what: String,
    /// Why (`sport `transition` maps to no exercise`).
    pub reason: String,
}

/// One imported workout.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The validated record.
    pub workout: Workout,
    /// The file's format (the message's `source`).
    pub source: Format,
}

impl Imported {
    /// The `workout` message of data.md as one line of JSON: `ts` is the workout's end (so a
    /// re-import gives the same line), `seq` 0 (a workout message belongs to no session).
    pub fn message(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Message {
            kind: "workout",
            seq: 0,
            ts: self
                .workout
                .end
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            source: self.source.name(),
            workout: &self.workout,
        })
    }
}

/// The `workout` message's fields, in the order data.md writes them.
#[derive(Serialize)]
struct Message<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: u64,
    ts: String,
    source: &'static str,
    workout: &'a Workout,
}

/// What a readable file gave.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FileReport {
    /// Workouts, in file order.
    pub workouts: Vec<Imported>,
    /// Activities not imported, in file order.
    pub skipped: Vec<Skipped>,
}

/// `imp-` and the first 16 hex digits of the SHA-256 of the bytes.
pub fn file_id(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("imp-{hex}")
}

/// Imports one file: `name` (its extension gives the format, which the content must agree
/// with), its bytes, the user the workouts belong to and the mapping.
pub fn import(
    name: &str,
    bytes: &[u8],
    user: &str,
    mapping: &Mapping,
) -> Result<FileReport, ImportError> {
    let format = Format::from_name(name).ok_or(ImportError::UnknownType)?;
    import_as(format, bytes, user, mapping)
}

/// Imports bytes of a known format (the server takes the format from the content type).
pub fn import_as(
    format: Format,
    bytes: &[u8],
    user: &str,
    mapping: &Mapping,
) -> Result<FileReport, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if let Some(found) = Format::sniff(bytes) {
        if found != format {
            return Err(ImportError::WrongExtension {
                extension: format.name().to_owned(),
                found: found.title(),
            });
        }
    }
    let activities = read_activities(format, bytes)?;
    Ok(finish(format, &file_id(bytes), activities, user, mapping))
}

/// The activities of a file, before mapping.
pub fn read_activities(format: Format, bytes: &[u8]) -> Result<Vec<Activity>, ImportError> {
    match format {
        Format::Fit => fit::read(bytes),
        Format::Gpx => gpx::read(bytes),
        Format::Tcx => tcx::read(bytes),
    }
}

/// Maps, names and validates the activities of one file.
fn finish(
    format: Format,
    base: &str,
    activities: Vec<Activity>,
    user: &str,
    mapping: &Mapping,
) -> FileReport {
    let several = activities.len() > 1;
    let mut report = FileReport::default();
    for (index, activity) in activities.into_iter().enumerate() {
        let id = if several {
            format!("{base}-{}", index + 1)
        } else {
            base.to_owned()
        };
        let skip = |reason: String| Skipped {
            what: activity.label.clone(),
            reason,
        };
        if let Some(problem) = &activity.problem {
            report.skipped.push(skip(problem.clone()));
            continue;
        }
        let exercise = match &activity.kind {
            Kind::Sport(sport) => mapping.sport(sport).ok_or_else(|| {
                format!(
                    "sport `{}` maps to no exercise (add it with --map)",
                    sport.key()
                )
            }),
            Kind::Exercise(Some(category)) => mapping.category(category).ok_or_else(|| {
                format!("exercise category `{category}` maps to no exercise (add it with --map)")
            }),
            Kind::Exercise(None) => Err("its sets name no exercise category".to_owned()),
        };
        let exercise = match exercise {
            Ok(e) => e,
            Err(reason) => {
                report.skipped.push(skip(reason));
                continue;
            }
        };
        let record = record_json(&id, user, exercise, &activity);
        let workout = record.and_then(|map| {
            records::parse_workout(&map).map_err(|e| format!("not a valid workout record: {e}"))
        });
        match workout {
            Ok(workout) => report.workouts.push(Imported {
                workout,
                source: format,
            }),
            Err(reason) => report.skipped.push(skip(reason)),
        }
    }
    report
}

/// The workout record of an activity, as JSON (so that it is validated as every record is).
fn record_json(
    id: &str,
    user: &str,
    exercise: &str,
    activity: &Activity,
) -> Result<Map<String, Value>, String> {
    let start = activity.start.ok_or("its start time is unknown")?;
    let end = activity.end.ok_or("its end time is unknown")?;
    let time =
        |t: DateTime<FixedOffset>| Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let mut map = Map::new();
    map.insert("id".to_owned(), Value::from(id));
    map.insert("user".to_owned(), Value::from(user));
    map.insert("exercise".to_owned(), Value::from(exercise));
    map.insert("start".to_owned(), time(start));
    map.insert("end".to_owned(), time(end));
    let number = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
    for (key, value) in [
        ("distance_m", activity.distance_m),
        ("calories_kcal", activity.calories_kcal),
        ("avg_hr_bpm", activity.avg_hr_bpm),
    ] {
        if let Some(v) = value {
            map.insert(key.to_owned(), number(v));
        }
    }
    if !activity.sets.is_empty() {
        let sets = activity
            .sets
            .iter()
            .map(|s| {
                let mut set = Map::new();
                set.insert("reps".to_owned(), Value::from(s.reps));
                if let Some(w) = s.weight_kg {
                    set.insert("weight_kg".to_owned(), number(w));
                }
                Value::Object(set)
            })
            .collect();
        map.insert("sets".to_owned(), Value::Array(sets));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_first_16_hex_digits_of_the_sha256() {
        // sha256("") = e3b0c44298fc1c149afbf4c8996fb924...
        assert_eq!(file_id(b""), "imp-e3b0c44298fc1c14");
        assert_eq!(file_id(b"abc"), "imp-ba7816bf8f01cfea");
    }

    #[test]
    fn activities_are_validated_as_workout_records() {
        let start = DateTime::parse_from_rfc3339("2026-08-02T06:10:00+08:00").ok();
        let mut good = Activity::new("track 1".to_owned(), Kind::Sport(Sport::new("running")));
        good.start = start;
        good.end = start;
        let mut bad = good.clone();
        bad.label = "track 2".to_owned();
        bad.distance_m = Some(-1.0);
        let mut timeless = good.clone();
        timeless.label = "track 3".to_owned();
        timeless.start = None;
        let report = finish(
            Format::Gpx,
            "imp-x",
            vec![good, bad, timeless],
            "u-01",
            &Mapping::builtin(),
        );
        assert_eq!(report.workouts.len(), 1);
        assert_eq!(report.workouts[0].workout.id, "imp-x-1");
        let reasons: Vec<(&str, &str)> = report
            .skipped
            .iter()
            .map(|s| (s.what.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(reasons[0].0, "track 2");
        assert!(
            reasons[0].1.starts_with(
                "not a valid workout record: `distance_m` must be a number, 0 or more"
            ),
            "{reasons:?}"
        );
        assert_eq!(reasons[1], ("track 3", "its start time is unknown"));
    }

    #[test]
    fn the_extension_names_the_format_and_the_content_must_agree() {
        assert_eq!(Format::from_name("a/Run.FIT"), Some(Format::Fit));
        assert_eq!(Format::from_name("run.gpx"), Some(Format::Gpx));
        assert_eq!(Format::from_name("run.txt"), None);
        assert_eq!(Format::from_name("run"), None);
        let gpx = b"<?xml version=\"1.0\"?><gpx version=\"1.1\"></gpx>";
        assert_eq!(
            import("run.fit", gpx, "u", &Mapping::builtin()),
            Err(ImportError::WrongExtension {
                extension: "fit".to_owned(),
                found: "GPX"
            })
        );
        assert_eq!(
            import("run.gpx", b"", "u", &Mapping::builtin()),
            Err(ImportError::Empty)
        );
        assert_eq!(
            import("run.csv", b"x", "u", &Mapping::builtin()),
            Err(ImportError::UnknownType)
        );
    }
}
