//! The GPX importer (the XML tree and the GPX reader) over any bytes: a list of workouts or an error, never a
//! panic; every workout ends at or after its start, and its `workout` message writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workout_import::{import_as, Format, Mapping};

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = import_as(Format::Gpx, data, "u-01", &Mapping::builtin()) {
        for imported in &report.workouts {
            assert!(imported.workout.end >= imported.workout.start);
            assert!(imported.message().is_ok());
        }
    }
});
