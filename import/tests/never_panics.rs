//! Any byte string given to the importer gives workouts or an error, never a panic: random
//! bytes, and the fixture files cut short or with bytes changed (which reach deeper into the
//! decoders than noise does).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use proptest::prelude::*;
use workout_import::{import, Mapping};

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/import");
    [
        "Activity.fit",
        "strength.fit",
        "garmin-fenix-5-bike.fit",
        "morning-run.gpx",
        "evening-ride.tcx",
    ]
    .into_iter()
    .map(|n| (n, std::fs::read(dir.join(n)).unwrap()))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn noise_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), ext in prop::sample::select(vec!["fit", "gpx", "tcx"])) {
        let _ = import(&format!("x.{ext}"), &bytes, "u", &Mapping::builtin());
    }

    #[test]
    fn damaged_fixtures_never_panic(which in 0usize..5, cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8)) {
        let files = fixtures();
        let (name, bytes) = &files[which];
        let mut bytes = bytes[..cut.index(bytes.len() + 1).max(1).min(bytes.len())].to_vec();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(report) = import(name, &bytes, "u", &Mapping::builtin()) {
            for w in &report.workouts {
                prop_assert!(w.workout.end >= w.workout.start);
                prop_assert!(w.message().is_ok());
            }
        }
    }
}
