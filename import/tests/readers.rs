//! The readers against the fixture files in `fixtures/import`.
//!
//! Expected figures come from independent decoders, not from this crate:
//!
//! - FIT: Python `fitdecode` 0.11.0 (PyPI), CRC checked (`CrcCheck.RAISE`): the `session`
//!   messages' `start_time`, `total_elapsed_time`, `total_distance`, `total_calories`,
//!   `avg_heart_rate`, `sport`, `sub_sport`, the `activity` message's `local_timestamp`, and
//!   the `set` messages of `strength.fit` (written by Garmin's `@garmin/fitsdk` encoder).
//! - GPX: Python `gpxpy` 1.6: point times, `gpxpy.geo.haversine_distance` summed over the
//!   points (R = 6,378,137 m) scaled to the mean radius used here (6,371,008.8 m), and the
//!   mean of the `gpxtpx:hr` extensions.
//! - TCX: the lap totals as written in the file (read with Python's `xml.etree`).
//! - Ids: `sha256sum` of the files.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;

use workout_import::{import, FileReport, Mapping};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/import")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read(name: &str) -> FileReport {
    import(name, &fixture(name), "u-01", &Mapping::builtin()).unwrap()
}

/// `(id, exercise, start, end, distance_m, calories_kcal, avg_hr_bpm)` of each workout.
type Row = (
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn rows(report: &FileReport) -> Vec<Row> {
    report
        .workouts
        .iter()
        .map(|i| {
            let w = &i.workout;
            (
                w.id.clone(),
                w.exercise.clone(),
                w.start.to_rfc3339(),
                w.end.to_rfc3339(),
                w.distance_m,
                w.calories_kcal,
                w.avg_hr_bpm,
            )
        })
        .collect()
}

fn row(
    id: &str,
    exercise: &str,
    start: &str,
    end: &str,
    distance: Option<f64>,
    calories: Option<f64>,
    hr: Option<f64>,
) -> Row {
    (
        id.to_owned(),
        exercise.to_owned(),
        start.to_owned(),
        end.to_owned(),
        distance,
        calories,
        hr,
    )
}

#[test]
fn activity_fit_is_a_short_run() {
    // fitdecode: running/generic, start 2012-04-09T21:22:26Z, elapsed 13.749 s, 5.73 m, 0 kcal,
    // no avg_heart_rate (and no heart_rate in its records); local time 4 h behind UTC.
    let report = read("Activity.fit");
    assert_eq!(
        rows(&report),
        [row(
            "imp-90bf03369eb0bf70",
            "run",
            "2012-04-09T17:22:26-04:00",
            "2012-04-09T17:22:39.749-04:00",
            Some(5.73),
            Some(0.0),
            None
        )]
    );
    assert!(report.skipped.is_empty());
}

#[test]
fn the_fenix_5_ride() {
    // fitdecode: cycling/generic, 2017-06-12T16:09:22Z, 60.363 s, 459.52 m, 7 kcal, 101 bpm; -07:00.
    assert_eq!(
        rows(&read("garmin-fenix-5-bike.fit")),
        [row(
            "imp-9206d34ba9c6283e",
            "ride",
            "2017-06-12T09:09:22-07:00",
            "2017-06-12T09:10:22.363-07:00",
            Some(459.52),
            Some(7.0),
            Some(101.0)
        )]
    );
}

#[test]
fn an_indoor_ride_is_the_bike() {
    // fitdecode: cycling/indoor_cycling, 2022-02-07T16:47:52Z, 1072.488 s, 6873.6 m, 216 kcal,
    // 156 bpm; +01:00.
    assert_eq!(
        rows(&read("hrv-activity.fit")),
        [row(
            "imp-0abea8845ab09f80",
            "bike",
            "2022-02-07T17:47:52+01:00",
            "2022-02-07T18:05:44.488+01:00",
            Some(6873.6),
            Some(216.0),
            Some(156.0)
        )]
    );
}

#[test]
fn a_triathlon_gives_three_workouts_and_reports_its_transitions() {
    // fitdecode: five sessions (swimming/open_water, transition, cycling, transition,
    // running); +02:00.
    let report = read("sample_mulitple_header.fit");
    assert_eq!(
        rows(&report),
        [
            row(
                "imp-910454f2718036f2-1",
                "swim",
                "2018-05-27T09:33:01+02:00",
                "2018-05-27T10:06:08.521+02:00",
                Some(1644.71),
                Some(245.0),
                Some(165.0)
            ),
            row(
                "imp-910454f2718036f2-3",
                "ride",
                "2018-05-27T10:08:58+02:00",
                "2018-05-27T11:22:40.140+02:00",
                Some(40909.42),
                Some(1001.0),
                Some(172.0)
            ),
            row(
                "imp-910454f2718036f2-5",
                "run",
                "2018-05-27T11:23:41+02:00",
                "2018-05-27T12:11:11.694+02:00",
                Some(9805.92),
                Some(632.0),
                Some(176.0)
            ),
        ]
    );
    let skipped: Vec<(&str, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.what.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                "session 2",
                "sport `transition` maps to no exercise (add it with --map)"
            ),
            (
                "session 4",
                "sport `transition` maps to no exercise (add it with --map)"
            ),
        ]
    );
}

#[test]
fn a_map_file_imports_the_transitions_with_the_same_ids_for_the_rest() {
    let mut mapping = Mapping::builtin();
    mapping
        .extend_from_json(r#"{"sports": {"transition": "walk"}}"#)
        .unwrap();
    let bytes = fixture("sample_mulitple_header.fit");
    let report = import("tri.fit", &bytes, "u-01", &mapping).unwrap();
    let ids: Vec<(&str, &str)> = report
        .workouts
        .iter()
        .map(|i| (i.workout.id.as_str(), i.workout.exercise.as_str()))
        .collect();
    assert_eq!(
        ids,
        [
            ("imp-910454f2718036f2-1", "swim"),
            ("imp-910454f2718036f2-2", "walk"),
            ("imp-910454f2718036f2-3", "ride"),
            ("imp-910454f2718036f2-4", "walk"),
            ("imp-910454f2718036f2-5", "run"),
        ]
    );
    assert!(report.skipped.is_empty());
}

#[test]
fn strength_sets_give_one_workout_per_exercise() {
    // fitdecode over strength.fit: active sets curl 3 × 12 at 12.5 kg (10:00:00–10:04:00Z),
    // bench_press 2 × 8 at 60 kg, push_up 2 × 20 without weight (10:08:20–10:10:40Z); rest sets
    // between; local time +08:00.
    let report = read("strength.fit");
    #[allow(clippy::type_complexity, reason = "a table of figures")]
    let got: Vec<(String, String, String, String, Vec<(u32, Option<f64>)>)> = report
        .workouts
        .iter()
        .map(|i| {
            let w = &i.workout;
            (
                w.id.clone(),
                w.exercise.clone(),
                w.start.to_rfc3339(),
                w.end.to_rfc3339(),
                w.sets.iter().map(|s| (s.reps, s.weight_kg)).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "imp-6628a91ff127ee2f-1".to_owned(),
                "bicep_curl".to_owned(),
                "2026-08-03T18:00:00+08:00".to_owned(),
                "2026-08-03T18:04:00+08:00".to_owned(),
                vec![(12, Some(12.5)); 3]
            ),
            (
                "imp-6628a91ff127ee2f-3".to_owned(),
                "push_up".to_owned(),
                "2026-08-03T18:08:20+08:00".to_owned(),
                "2026-08-03T18:10:40+08:00".to_owned(),
                vec![(20, None); 2]
            ),
        ]
    );
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(
        report.skipped[0].what,
        "exercise `bench_press` of session 1"
    );
    // The session's calories and heart rate are not split between exercises.
    assert!(report
        .workouts
        .iter()
        .all(|i| i.workout.calories_kcal.is_none() && i.workout.avg_hr_bpm.is_none()));
}

#[test]
fn a_gpx_run_takes_its_distance_from_the_points() {
    // gpxpy: 31 points 22:10–22:40Z, 5183.172311 m at R = 6378137 m, i.e. 5177.3796 m at
    // R = 6371008.8 m; mean gpxtpx:hr 144.3548.
    let report = read("morning-run.gpx");
    let [(id, exercise, start, end, Some(distance), None, Some(hr))] = &rows(&report)[..] else {
        panic!("{:?}", rows(&report));
    };
    assert_eq!(id, "imp-aeba651ac571f009");
    assert_eq!(exercise, "run");
    assert_eq!(start, "2026-08-01T22:10:00+00:00");
    assert_eq!(end, "2026-08-01T22:40:00+00:00");
    assert!(
        (distance - 5_177.379_602_521_427).abs() < 1e-6,
        "{distance}"
    );
    assert!((hr - 144.354_838_709_677_4).abs() < 1e-9, "{hr}");
}

#[test]
fn a_tcx_ride_takes_the_lap_totals() {
    // The laps: 900 s + 600 s from 10:30:00Z, 6200.0 + 3900.5 m, 190 + 140 kcal, 131 and 142
    // bpm (weighted by time: 135.4).
    assert_eq!(
        rows(&read("evening-ride.tcx")),
        [row(
            "imp-fa660ca0f7138916",
            "ride",
            "2026-08-05T10:30:00+00:00",
            "2026-08-05T10:55:00+00:00",
            Some(10100.5),
            Some(330.0),
            Some(135.4)
        )]
    );
}

#[test]
fn re_import_gives_the_same_messages() {
    for name in [
        "Activity.fit",
        "strength.fit",
        "morning-run.gpx",
        "evening-ride.tcx",
    ] {
        let lines = |r: FileReport| -> Vec<String> {
            r.workouts.iter().map(|i| i.message().unwrap()).collect()
        };
        assert_eq!(lines(read(name)), lines(read(name)), "{name}");
    }
    let line = read("Activity.fit").workouts[0].message().unwrap();
    assert!(line.starts_with(r#"{"type":"workout","seq":0,"ts":"2012-04-09T17:22:39.749-04:00","source":"fit","workout":{"id":"imp-90bf03369eb0bf70","#), "{line}");
}

fn error(name: &str, bytes: &[u8]) -> String {
    match import(name, bytes, "u-01", &Mapping::builtin()) {
        Ok(r) => panic!("{name}: imported {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_files_are_clear_errors() {
    let activity = fixture("Activity.fit");
    assert_eq!(error("empty.fit", b""), "the file is empty");
    assert_eq!(
        error("run.txt", &activity),
        "unknown file type: the name must end in .fit, .gpx or .tcx"
    );
    assert_eq!(
        error("run.gpx", &activity),
        "the name ends in .gpx but the content is a FIT file"
    );
    assert_eq!(
        error("run.fit", &fixture("morning-run.gpx")),
        "the name ends in .fit but the content is a GPX file"
    );
    assert_eq!(
        error("run.tcx", &fixture("morning-run.gpx")),
        "the name ends in .tcx but the content is a GPX file"
    );
    let truncated = error("cut.fit", &activity[..activity.len() / 2]);
    assert!(
        truncated.starts_with("not a readable FIT file"),
        "{truncated}"
    );
    // One byte of a record changed: the data CRC no longer matches.
    let mut corrupt = activity.clone();
    corrupt[200] ^= 0x55;
    let crc = error("corrupt.fit", &corrupt);
    assert!(crc.starts_with("the FIT file fails its CRC check"), "{crc}");
    assert!(
        error("noise.fit", b"this is not a fit file at all").starts_with("not a readable FIT file")
    );
    assert_eq!(
        error("Settings.fit", &fixture("Settings.fit")),
        "not an activity: the FIT file's type is `settings` (only activity files hold workouts)"
    );
    assert_eq!(
        error("no-times.gpx", &fixture("no-times.gpx")),
        "no track point has a time (`<time>`), so the workouts' start and end are unknown"
    );
    let gpx = fixture("morning-run.gpx");
    let cut = error("cut.gpx", &gpx[..gpx.len() / 2]);
    assert!(
        cut.contains("is the file truncated?") && cut.starts_with("not valid XML"),
        "{cut}"
    );
    assert_eq!(
        error("empty.gpx", b"<gpx></gpx>"),
        "no activity in the file: the GPX file has no track (`<trk>`)"
    );
    assert_eq!(
        error("x.tcx", b"<TrainingCenterDatabase><Courses/></TrainingCenterDatabase>"),
        "no activity in the file: the TCX file has no `<Activity>` (courses and workout plans are not activities)"
    );
    assert_eq!(
        error("x.gpx", b"<kml></kml>"),
        "not a GPX file: its root element is `<kml>`"
    );
}

#[test]
fn a_track_without_sport_is_reported_not_guessed() {
    let gpx = String::from_utf8(fixture("morning-run.gpx"))
        .unwrap()
        .replace("<type>running</type>", "");
    let report = import("run.gpx", gpx.as_bytes(), "u-01", &Mapping::builtin()).unwrap();
    assert!(report.workouts.is_empty());
    assert_eq!(
        report.skipped[0].reason,
        "sport `generic` maps to no exercise (add it with --map)"
    );
}
