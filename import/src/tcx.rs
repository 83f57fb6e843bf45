//! TCX activities (Garmin Training Center Database v2), read with [`crate::xml`].
//!
//! Each `<Activity>` is an activity: its sport from the `Sport` attribute (`Running`, `Biking`
//! is `cycling`, `Other` is `generic`). Decisions where the spec is silent:
//!
//! - start: the first lap's `StartTime`, else the activity's `Id`, else the first trackpoint
//!   time; end: the later of the laps' ends (`StartTime` + `TotalTimeSeconds`) and the last
//!   trackpoint time.
//! - distance: the sum of the laps' `DistanceMeters`, else the largest trackpoint
//!   `DistanceMeters`, else the length of the trackpoint positions (haversine).
//! - calories: the sum of the laps' `Calories`; heart rate: the laps' `AverageHeartRateBpm`
//!   weighted by their `TotalTimeSeconds`, else the mean of the trackpoints' `HeartRateBpm`.

use chrono::{DateTime, FixedOffset, TimeDelta};

use crate::gpx::sport_of;
use crate::track::{self, Point};
use crate::xml::{self, Element};
use crate::{Activity, ImportError, Kind};

/// Reads the activities of a TCX file.
pub fn read(bytes: &[u8]) -> Result<Vec<Activity>, ImportError> {
    let root = xml::parse(bytes)?;
    if root.name != "TrainingCenterDatabase" {
        return Err(ImportError::WrongRoot {
            expected: "TCX",
            root: root.name,
        });
    }
    let activities: Vec<&Element> = root
        .all("Activities")
        .flat_map(|a| a.all("Activity"))
        .collect();
    if activities.is_empty() {
        return Err(ImportError::NoActivity(
            "the TCX file has no `<Activity>` (courses and workout plans are not activities)",
        ));
    }
    let out: Vec<Activity> = activities
        .iter()
        .enumerate()
        .map(|(i, a)| activity(i + 1, a))
        .collect();
    if out.iter().all(|a| a.start.is_none()) {
        return Err(ImportError::NoTimes);
    }
    Ok(out)
}

fn activity(number: usize, element: &Element) -> Activity {
    let sport = match element
        .attribute("Sport")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("biking") => sport_of(Some("cycling")),
        other => sport_of(other),
    };
    let mut activity = Activity::new(format!("activity {number}"), Kind::Sport(sport));
    let laps: Vec<&Element> = element.all("Lap").collect();
    let mut times: Vec<DateTime<FixedOffset>> = Vec::new();
    let mut lap_ends: Vec<DateTime<FixedOffset>> = Vec::new();
    let (mut lap_distance, mut calories) = (None::<f64>, None::<f64>);
    let (mut hr_weighted, mut hr_seconds) = (0.0, 0.0);
    let mut track_distance: Option<f64> = None;
    let mut positions: Vec<Point> = Vec::new();
    let mut hr: Vec<f64> = Vec::new();
    let mut first_lap_start = None;
    for lap in &laps {
        let start = lap.attribute("StartTime").and_then(track::parse_time);
        first_lap_start = first_lap_start.or(start);
        let seconds = lap
            .text_at(&["TotalTimeSeconds"])
            .and_then(track::number)
            .filter(|s| (0.0..1e9).contains(s));
        if let (Some(start), Some(s)) = (start, seconds) {
            if let Some(end) =
                start.checked_add_signed(TimeDelta::milliseconds((s * 1000.0).round() as i64))
            {
                lap_ends.push(end);
            }
        }
        if let Some(d) = lap.text_at(&["DistanceMeters"]).and_then(track::number) {
            *lap_distance.get_or_insert(0.0) += d;
        }
        if let Some(c) = lap.text_at(&["Calories"]).and_then(track::number) {
            *calories.get_or_insert(0.0) += c;
        }
        if let (Some(h), Some(s)) = (
            lap.text_at(&["AverageHeartRateBpm", "Value"])
                .and_then(track::number),
            seconds,
        ) {
            hr_weighted += h * s;
            hr_seconds += s;
        }
        for point in lap.all("Track").flat_map(|t| t.all("Trackpoint")) {
            if let Some(t) = point.text_at(&["Time"]).and_then(track::parse_time) {
                times.push(t);
            }
            if let Some(d) = point.text_at(&["DistanceMeters"]).and_then(track::number) {
                track_distance = Some(track_distance.map_or(d, |m| m.max(d)));
            }
            if let Some(h) = point
                .text_at(&["HeartRateBpm", "Value"])
                .and_then(track::number)
            {
                hr.push(h);
            }
            let degrees = |name| point.text_at(&["Position", name]).and_then(track::number);
            if let Some(p) = Point::new(degrees("LatitudeDegrees"), degrees("LongitudeDegrees")) {
                positions.push(p);
            }
        }
    }
    let start = first_lap_start
        .or_else(|| element.text_at(&["Id"]).and_then(track::parse_time))
        .or_else(|| times.iter().min().copied());
    let end = lap_ends.iter().chain(&times).max().copied();
    let (Some(start), Some(end)) = (start, end) else {
        activity.problem = Some("its laps and trackpoints have no time".to_owned());
        return activity;
    };
    activity.start = Some(start);
    activity.end = Some(end.max(start));
    activity.distance_m = lap_distance
        .or(track_distance)
        .or_else(|| (positions.len() > 1).then(|| track::path_length_m(&positions)));
    activity.calories_kcal = calories;
    activity.avg_hr_bpm = if hr_seconds > 0.0 {
        Some(hr_weighted / hr_seconds)
    } else {
        track::mean(&hr)
    };
    activity
}
