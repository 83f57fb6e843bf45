//! Sensor-event JSON Lines → reader → the save stage (`SessionState`): never a panic,
//! read = accepted + rejected, and without conflicting copies the saved workouts do not depend
//! on the delivery order (data.md: events are deduplicated and ordered by `seq`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules_core::session::{read_events, workouts_of, PushOutcome, SessionState};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let report = read_events(text);
    assert_eq!(report.read(), lines);
    let events = report.into_records();
    // A conflicting copy keeps the first one that arrived, so only conflict-free streams are
    // order-independent.
    let mut conflicts = false;
    let mut sessions: std::collections::BTreeMap<String, SessionState> = Default::default();
    for event in &events {
        if let Some(id) = event.session() {
            let state = sessions.entry(id.to_owned()).or_insert_with(|| SessionState::new(id));
            conflicts |= state.push(event.clone()) == PushOutcome::Conflict;
            let _ = state.live_workout();
        }
    }
    let forward = workouts_of(events.iter().cloned());
    let backward = workouts_of(events.iter().rev().cloned());
    if !conflicts {
        assert_eq!(forward, backward, "the saved workouts depend on the delivery order");
    }
});
