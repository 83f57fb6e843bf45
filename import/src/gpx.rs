//! GPX tracks (GPS Exchange Format 1.0 and 1.1), read with [`crate::xml`].
//!
//! Each `<trk>` is an activity: its sport from `<type>` (`running`, `cycling`...; none:
//! `generic`), start and end from the first and last point times, distance from the points
//! (haversine between consecutive points of each segment; GPX has no totals), heart rate the
//! mean of the points' `hr` extensions (Garmin's `gpxtpx:hr`, and any other `hr` element
//! inside a point's `<extensions>`).
//!
//! A file whose tracks have no times at all is an error ([`ImportError::NoTimes`]); one track
//! without times in a file with others is reported and skipped.

use chrono::{DateTime, FixedOffset};

use crate::track::{self, Point};
use crate::xml::{self, Element};
use crate::{Activity, ImportError, Kind, Sport};

/// Reads the tracks of a GPX file.
pub fn read(bytes: &[u8]) -> Result<Vec<Activity>, ImportError> {
    let root = xml::parse(bytes)?;
    if root.name != "gpx" {
        return Err(ImportError::WrongRoot {
            expected: "GPX",
            root: root.name,
        });
    }
    let tracks: Vec<&Element> = root.all("trk").collect();
    if tracks.is_empty() {
        return Err(ImportError::NoActivity(
            "the GPX file has no track (`<trk>`)",
        ));
    }
    let activities: Vec<Activity> = tracks
        .iter()
        .enumerate()
        .map(|(i, trk)| track_activity(i + 1, trk))
        .collect();
    if activities.iter().all(|a| a.start.is_none()) {
        return Err(ImportError::NoTimes);
    }
    Ok(activities)
}

/// A GPX activity type in the FIT profile's words.
pub(crate) fn sport_of(text: Option<&str>) -> Sport {
    let text = text
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let sport = match text.as_str() {
        "" | "other" => "generic",
        "run" | "running" | "trail_running" => "running",
        "walk" | "walking" => "walking",
        "hike" | "hiking" => "hiking",
        "ride" | "cycling" | "biking" | "bike" => "cycling",
        "swim" | "swimming" => "swimming",
        other => other,
    };
    Sport::new(sport)
}

fn track_activity(number: usize, trk: &Element) -> Activity {
    let mut activity = Activity::new(
        format!("track {number}"),
        Kind::Sport(sport_of(trk.text_at(&["type"]))),
    );
    let mut times: Vec<DateTime<FixedOffset>> = Vec::new();
    let mut hr: Vec<f64> = Vec::new();
    let mut distance = 0.0;
    for segment in trk.all("trkseg") {
        let mut points = Vec::new();
        for pt in segment.all("trkpt") {
            let coordinate = |name| pt.attribute(name).and_then(track::number);
            if let Some(p) = Point::new(coordinate("lat"), coordinate("lon")) {
                points.push(p);
            }
            if let Some(t) = pt.text_at(&["time"]).and_then(track::parse_time) {
                times.push(t);
            }
            if let Some(extensions) = pt.child("extensions") {
                let mut found = Vec::new();
                extensions.descendants("hr", &mut found);
                if let Some(v) = found.first().and_then(|e| track::number(&e.text)) {
                    hr.push(v);
                }
            }
        }
        distance += track::path_length_m(&points);
    }
    let (Some(start), Some(end)) = (times.iter().min(), times.iter().max()) else {
        activity.problem = Some("its points have no time (`<time>`)".to_owned());
        return activity;
    };
    activity.start = Some(*start);
    activity.end = Some(*end);
    activity.distance_m = Some(distance);
    activity.avg_hr_bpm = track::mean(&hr);
    activity
}
