//! Workout and user JSON Lines readers, then the profiler over what was accepted: never a
//! panic, and read = accepted + rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules_core::eval::AsOf;
use rules_core::records::{read_users, read_workouts, upsert_users, upsert_workouts};
use rules_core::{profile, Catalog};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let workouts = read_workouts(text);
    assert_eq!(workouts.read(), lines);
    let users = read_users(text);
    assert_eq!(users.read(), lines);
    let workouts = upsert_workouts(workouts.into_records());
    let users = upsert_users(users.into_records());
    let as_of = AsOf::parse("2026-09-01T00:00:00+08:00").unwrap_or_else(|| unreachable!());
    let _ = profile::profiles_all(&users, &workouts, &Catalog::builtin(), &as_of, 90);
    let _ = profile::read_profiles(text);
});
