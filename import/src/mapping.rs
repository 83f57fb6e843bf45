//! From a device's sport (or a strength set's exercise category) to a catalog exercise.
//!
//! The default table is the one data.md fixes ("Imported workouts"); `--map FILE` adds to it or
//! overrides it. Keys are the FIT profile's snake_case names (`running`, `indoor_cycling`,
//! `bench_press`); a sport key is `sport/sub_sport` or `sport`, the longer key winning. GPX and
//! TCX activity types are read into the same names (`Biking` is `cycling`, a track without a
//! type is `generic`).
//!
//! **Invariant:** an activity whose key is in neither table maps to nothing: the importer
//! reports it, never guesses.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The sport of a FIT session, a GPX track or a TCX activity (FIT names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sport {
    /// `running`, `cycling`, `training`, `generic`...
    pub sport: String,
    /// `treadmill`, `indoor_cycling`, `strength_training`... (`None`: not given, or `generic`).
    pub sub_sport: Option<String>,
}

impl Sport {
    /// A sport without sub-sport.
    pub fn new(sport: &str) -> Sport {
        Sport {
            sport: sport.to_owned(),
            sub_sport: None,
        }
    }

    /// `sport/sub_sport`, or `sport`.
    pub fn key(&self) -> String {
        match &self.sub_sport {
            Some(sub) => format!("{}/{sub}", self.sport),
            None => self.sport.clone(),
        }
    }

    /// Whether this is a strength session, whose workouts come from its `set` messages.
    pub fn is_strength(&self) -> bool {
        self.sport == "training" && self.sub_sport.as_deref() == Some("strength_training")
    }
}

/// The sport table of data.md: `(key, exercise)`.
const SPORTS: &[(&str, &str)] = &[
    ("running", "run"),
    ("running/treadmill", "treadmill"),
    ("walking", "walk"),
    ("hiking", "hike"),
    ("cycling", "ride"),
    ("cycling/indoor_cycling", "bike"),
    ("cycling/spin", "bike"),
    ("swimming", "swim"),
    ("rowing", "rower"),
    ("fitness_equipment/elliptical", "elliptical"),
    ("fitness_equipment/stair_climbing", "stair_climber"),
    ("fitness_equipment/indoor_rowing", "rower"),
    ("fitness_equipment/treadmill", "treadmill"),
];

/// FIT exercise categories with an exercise of the built-in catalog that is the same movement.
/// Categories that name several catalog exercises or none (`bench_press`, `squat`, `row`) are
/// left to `--map`.
const CATEGORIES: &[(&str, &str)] = &[
    ("curl", "bicep_curl"),
    ("leg_curl", "leg_curl"),
    ("plank", "plank"),
    ("pull_up", "pull_up"),
    ("push_up", "push_up"),
    ("shoulder_press", "shoulder_press"),
    ("sit_up", "sit_up"),
    ("triceps_extension", "tricep_extension"),
];

/// The sport and exercise-category tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    sports: BTreeMap<String, String>,
    categories: BTreeMap<String, String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping::builtin()
    }
}

/// The shape of a `--map` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default)]
    sports: BTreeMap<String, String>,
    #[serde(default)]
    exercise_categories: BTreeMap<String, String>,
}

/// Why a `--map` file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// Not JSON of the map's shape.
    #[error("the mapping is not valid: {0}")]
    Shape(String),
    /// An empty key.
    #[error("the mapping has an empty key")]
    EmptyKey,
}

impl Mapping {
    /// The table of data.md.
    pub fn builtin() -> Mapping {
        let own = |table: &[(&str, &str)]| {
            table
                .iter()
                .map(|&(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        Mapping {
            sports: own(SPORTS),
            categories: own(CATEGORIES),
        }
    }

    /// Adds the entries of a `--map` file (JSON:
    /// `{"sports": {"e_biking": "ride"}, "exercise_categories": {"bench_press": "chest_press"}}`),
    /// overriding the defaults with the same key. Returns the exercises it names, for the
    /// caller to check against the catalog.
    pub fn extend_from_json(&mut self, text: &str) -> Result<Vec<String>, MapError> {
        let file: MapFile =
            serde_json::from_str(text).map_err(|e| MapError::Shape(e.to_string()))?;
        let mut named = Vec::new();
        for (table, entries) in [
            (&mut self.sports, file.sports),
            (&mut self.categories, file.exercise_categories),
        ] {
            for (key, exercise) in entries {
                if key.is_empty() {
                    return Err(MapError::EmptyKey);
                }
                named.push(exercise.clone());
                table.insert(key, exercise);
            }
        }
        named.sort();
        named.dedup();
        Ok(named)
    }

    /// The exercise of a sport: `sport/sub_sport` first, then `sport`.
    pub fn sport(&self, sport: &Sport) -> Option<&str> {
        self.sports
            .get(&sport.key())
            .or_else(|| self.sports.get(&sport.sport))
            .map(String::as_str)
    }

    /// The exercise of a FIT exercise category.
    pub fn category(&self, category: &str) -> Option<&str> {
        self.categories.get(category).map(String::as_str)
    }

    /// Every `(sport key, exercise)` and every `(category, exercise)`, for docs and tests.
    pub fn tables(&self) -> (&BTreeMap<String, String>, &BTreeMap<String, String>) {
        (&self.sports, &self.categories)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sport(s: &str, sub: Option<&str>) -> Sport {
        Sport {
            sport: s.to_owned(),
            sub_sport: sub.map(str::to_owned),
        }
    }

    #[test]
    fn the_table_of_data_md() {
        let m = Mapping::builtin();
        assert_eq!(m.sport(&sport("running", None)), Some("run"));
        assert_eq!(m.sport(&sport("running", Some("trail"))), Some("run"));
        assert_eq!(
            m.sport(&sport("running", Some("treadmill"))),
            Some("treadmill")
        );
        assert_eq!(m.sport(&sport("cycling", Some("spin"))), Some("bike"));
        assert_eq!(m.sport(&sport("cycling", Some("road"))), Some("ride"));
        assert_eq!(
            m.sport(&sport("fitness_equipment", Some("stair_climbing"))),
            Some("stair_climber")
        );
        assert_eq!(m.sport(&sport("fitness_equipment", None)), None);
        assert_eq!(m.sport(&sport("transition", None)), None);
        assert_eq!(m.category("curl"), Some("bicep_curl"));
        assert_eq!(m.category("bench_press"), None);
    }

    #[test]
    fn a_map_file_adds_and_overrides() {
        let mut m = Mapping::builtin();
        let named = m
            .extend_from_json(r#"{"sports": {"transition": "walk", "running": "treadmill"}, "exercise_categories": {"bench_press": "chest_press"}}"#)
            .unwrap_or_default();
        assert_eq!(named, ["chest_press", "treadmill", "walk"]);
        assert_eq!(m.sport(&sport("transition", None)), Some("walk"));
        assert_eq!(m.sport(&sport("running", None)), Some("treadmill"));
        assert_eq!(m.category("bench_press"), Some("chest_press"));
        assert!(matches!(
            m.extend_from_json(r#"{"sport": {}}"#),
            Err(MapError::Shape(_))
        ));
        assert_eq!(
            m.extend_from_json(r#"{"sports": {"": "run"}}"#),
            Err(MapError::EmptyKey)
        );
    }
}
