//! The exercise catalog (data.md, "Exercise catalog").
//!
//! A built-in catalog ships with the product; a JSON file (`--catalog FILE`) adds exercises or
//! overrides built-in ones. Selectors in challenges (`of leg_press`, `of cardio`) and profile
//! lookups name exercises from here.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The category of an exercise. Categories may stand in a selector (`of cardio`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Loaded sets (`leg_press`).
    Strength,
    /// Sets without load (`push_up`).
    Bodyweight,
    /// Distance and duration (`treadmill`).
    Cardio,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 3] = [Category::Strength, Category::Bodyweight, Category::Cardio];

    /// The keyword (`cardio`).
    pub fn name(self) -> &'static str {
        match self {
            Category::Strength => "strength",
            Category::Bodyweight => "bodyweight",
            Category::Cardio => "cardio",
        }
    }

    /// The category with this keyword.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One exercise of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// The id used in challenges and workout records (`leg_press`).
    pub id: String,
    /// Its category.
    pub category: Category,
    /// Display name.
    pub name: String,
}

/// The exercises known to the checker, the evaluator and the profiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    exercises: BTreeMap<String, Exercise>,
}

/// Why a catalog file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Not JSON of the catalog's shape.
    #[error("the catalog is not valid: {0}")]
    Shape(String),
    /// An exercise id that the DSL cannot name.
    #[error("exercise id `{0}` is not valid: ids are lowercase letters, digits and `_`, starting with a letter, and not a keyword")]
    BadId(String),
}

const BUILT_IN: &[(&str, Category, &str)] = &[
    ("leg_press", Category::Strength, "Leg press"),
    ("chest_press", Category::Strength, "Chest press"),
    ("shoulder_press", Category::Strength, "Shoulder press"),
    ("lat_pulldown", Category::Strength, "Lat pulldown"),
    ("seated_row", Category::Strength, "Seated row"),
    ("leg_extension", Category::Strength, "Leg extension"),
    ("leg_curl", Category::Strength, "Leg curl"),
    ("bicep_curl", Category::Strength, "Bicep curl"),
    ("tricep_extension", Category::Strength, "Tricep extension"),
    ("smith_squat", Category::Strength, "Smith machine squat"),
    ("push_up", Category::Bodyweight, "Push-up"),
    ("pull_up", Category::Bodyweight, "Pull-up"),
    ("sit_up", Category::Bodyweight, "Sit-up"),
    ("dip", Category::Bodyweight, "Dip"),
    ("bodyweight_squat", Category::Bodyweight, "Bodyweight squat"),
    ("plank", Category::Bodyweight, "Plank"),
    ("treadmill", Category::Cardio, "Treadmill"),
    ("bike", Category::Cardio, "Exercise bike"),
    ("rower", Category::Cardio, "Rowing machine"),
    ("elliptical", Category::Cardio, "Elliptical trainer"),
    ("stair_climber", Category::Cardio, "Stair climber"),
    // Outdoor cardio, for imported workouts (data.md, "Imported workouts").
    ("run", Category::Cardio, "Run"),
    ("walk", Category::Cardio, "Walk"),
    ("ride", Category::Cardio, "Ride"),
    ("swim", Category::Cardio, "Swim"),
    ("hike", Category::Cardio, "Hike"),
];

/// The ids of the built-in exercises, in a fixed order (the evaluator's global exercise ids).
pub(crate) fn builtin_ids() -> impl Iterator<Item = &'static str> {
    BUILT_IN.iter().map(|&(id, _, _)| id)
}

/// The reserved words of the DSL (language.md §2); none can be an exercise id.
pub const KEYWORDS: &[&str] = &[
    "challenge",
    "template",
    "title",
    "description",
    "window",
    "to",
    "timezone",
    "groups",
    "gyms",
    "reward",
    "points",
    "param",
    "goal",
    "all",
    "any",
    "at",
    "least",
    "of",
    "on",
    "every",
    "streak",
    "in",
    "one",
    "workout",
    "where",
    "and",
    "or",
    "not",
    "sum",
    "count",
    "max",
    "min",
    "avg",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "strength",
    "bodyweight",
    "cardio",
    "else",
    "profile",
    "teams",
    "tier",
];

/// Whether `word` is a reserved word of the DSL.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Whether `word` is an identifier (`[a-z][a-z0-9_]*`).
pub fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    exercises: Vec<Exercise>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin()
    }
}

impl Catalog {
    /// The built-in catalog (data.md lists its minimum).
    pub fn builtin() -> Catalog {
        let exercises = BUILT_IN
            .iter()
            .map(|&(id, category, name)| {
                (
                    id.to_owned(),
                    Exercise {
                        id: id.to_owned(),
                        category,
                        name: name.to_owned(),
                    },
                )
            })
            .collect();
        Catalog { exercises }
    }

    /// Adds the exercises of a catalog file (JSON), overriding built-in ones with the same id.
    pub fn extend_from_json(&mut self, text: &str) -> Result<usize, CatalogError> {
        let file: CatalogFile =
            serde_json::from_str(text).map_err(|e| CatalogError::Shape(e.to_string()))?;
        let count = file.exercises.len();
        for exercise in file.exercises {
            if !is_identifier(&exercise.id) || is_keyword(&exercise.id) {
                return Err(CatalogError::BadId(exercise.id));
            }
            self.exercises.insert(exercise.id.clone(), exercise);
        }
        Ok(count)
    }

    /// The exercise with this id.
    pub fn get(&self, id: &str) -> Option<&Exercise> {
        self.exercises.get(id)
    }

    /// The category of an exercise id.
    pub fn category(&self, id: &str) -> Option<Category> {
        self.get(id).map(|e| e.category)
    }

    /// Every exercise, by id.
    pub fn exercises(&self) -> impl Iterator<Item = &Exercise> {
        self.exercises.values()
    }

    /// Every id a selector may name: exercise ids and category names.
    pub fn selector_names(&self) -> impl Iterator<Item = &str> {
        self.exercises
            .keys()
            .map(String::as_str)
            .chain(Category::ALL.iter().map(|c| c.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_the_minimum_of_data_md() {
        let c = Catalog::builtin();
        assert_eq!(c.category("leg_press"), Some(Category::Strength));
        assert_eq!(c.category("plank"), Some(Category::Bodyweight));
        assert_eq!(c.category("stair_climber"), Some(Category::Cardio));
        for outdoor in ["run", "walk", "ride", "swim", "hike"] {
            assert_eq!(c.category(outdoor), Some(Category::Cardio), "{outdoor}");
        }
        assert_eq!(c.exercises().count(), 26);
        assert!(c
            .exercises()
            .all(|e| is_identifier(&e.id) && !is_keyword(&e.id)));
    }

    #[test]
    fn a_catalog_file_adds_and_overrides() {
        let mut c = Catalog::builtin();
        let n = c
            .extend_from_json(
                r#"{"exercises": [{"id": "kettlebell_swing", "category": "strength", "name": "KB"},
                                  {"id": "plank", "category": "strength", "name": "Weighted plank"}]}"#,
            )
            .unwrap_or(0);
        assert_eq!(n, 2);
        assert_eq!(c.category("kettlebell_swing"), Some(Category::Strength));
        assert_eq!(c.category("plank"), Some(Category::Strength));
    }

    #[test]
    fn a_bad_category_or_id_is_refused() {
        let mut c = Catalog::builtin();
        let bad = r#"{"exercises": [{"id": "yoga", "category": "mobility", "name": "Yoga"}]}"#;
        assert!(matches!(
            c.extend_from_json(bad),
            Err(CatalogError::Shape(_))
        ));
        let bad = r#"{"exercises": [{"id": "Yoga", "category": "cardio", "name": "Yoga"}]}"#;
        assert!(matches!(
            c.extend_from_json(bad),
            Err(CatalogError::BadId(_))
        ));
        let bad = r#"{"exercises": [{"id": "workout", "category": "cardio", "name": "x"}]}"#;
        assert!(matches!(
            c.extend_from_json(bad),
            Err(CatalogError::BadId(_))
        ));
    }
}
