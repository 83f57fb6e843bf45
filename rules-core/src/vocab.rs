//! The words of the language that name things: measures, counting units, condition fields,
//! weekdays, profile figures and param functions (language.md §4–§5).
//!
//! The tree stores these as strings, as written; the checker validates them against these
//! tables and the evaluator's plan resolves them to the enums here.

use chrono::Weekday;

use crate::units::Dimension;

/// Whether a measure is read per set or per workout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Read from each set (`reps`, `weight`, `volume`).
    Set,
    /// Read from the workout record.
    Workout,
}

/// A measure of the table of language.md §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Measure {
    /// The set's counted reps.
    Reps,
    /// The set's load (no value without load).
    Weight,
    /// reps × weight (no value without load).
    Volume,
    /// end − start.
    Duration,
    /// `distance_m`.
    Distance,
    /// distance / duration.
    Speed,
    /// `calories_kcal`.
    Calories,
    /// `avg_hr_bpm`.
    HeartRate,
    /// `incline_pct`.
    Incline,
}

impl Measure {
    /// Every measure, in the order of the spec's table.
    pub const ALL: [Measure; 9] = [
        Measure::Reps,
        Measure::Weight,
        Measure::Volume,
        Measure::Duration,
        Measure::Distance,
        Measure::Speed,
        Measure::Calories,
        Measure::HeartRate,
        Measure::Incline,
    ];

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Reps => "reps",
            Measure::Weight => "weight",
            Measure::Volume => "volume",
            Measure::Duration => "duration",
            Measure::Distance => "distance",
            Measure::Speed => "speed",
            Measure::Calories => "calories",
            Measure::HeartRate => "heart_rate",
            Measure::Incline => "incline",
        }
    }

    /// The measure with this name.
    pub fn from_name(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Its dimension.
    pub fn dimension(self) -> Dimension {
        match self {
            Measure::Reps => Dimension::Count,
            Measure::Weight | Measure::Volume => Dimension::Mass,
            Measure::Duration => Dimension::Duration,
            Measure::Distance => Dimension::Distance,
            Measure::Speed => Dimension::Speed,
            Measure::Calories => Dimension::Energy,
            Measure::HeartRate => Dimension::HeartRate,
            Measure::Incline => Dimension::Percent,
        }
    }

    /// Per set or per workout.
    pub fn level(self) -> Level {
        match self {
            Measure::Reps | Measure::Weight | Measure::Volume => Level::Set,
            _ => Level::Workout,
        }
    }
}

/// What `count(...)` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CountUnit {
    /// Matching workouts.
    Workouts,
    /// Matching sets.
    Sets,
    /// Distinct local days with at least one matching workout.
    Days,
}

impl CountUnit {
    /// Every counting unit.
    pub const ALL: [CountUnit; 3] = [CountUnit::Workouts, CountUnit::Sets, CountUnit::Days];

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            CountUnit::Workouts => "workouts",
            CountUnit::Sets => "sets",
            CountUnit::Days => "days",
        }
    }

    /// The counting unit with this name.
    pub fn from_name(name: &str) -> Option<CountUnit> {
        CountUnit::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A field a condition can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// A measure (set-level ones are tested per set).
    Measure(Measure),
    /// The workout's exercise id (a string).
    Exercise,
    /// The workout's gym (a string).
    Gym,
    /// The workout's machine (a string).
    Machine,
    /// The local start hour, 0–23 (a count).
    Hour,
    /// The local start weekday (`mon` ... `sun`).
    Weekday,
}

/// What kind of value a field compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A quantity of this dimension.
    Quantity(Dimension),
    /// A quoted string (an exercise may also be written bare).
    Text,
    /// A bare weekday.
    Weekday,
}

impl Field {
    /// The field with this name.
    pub fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "exercise" => Field::Exercise,
            "gym" => Field::Gym,
            "machine" => Field::Machine,
            "hour" => Field::Hour,
            "weekday" => Field::Weekday,
            other => Field::Measure(Measure::from_name(other)?),
        })
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Field::Measure(m) => m.name(),
            Field::Exercise => "exercise",
            Field::Gym => "gym",
            Field::Machine => "machine",
            Field::Hour => "hour",
            Field::Weekday => "weekday",
        }
    }

    /// Every field name, for "did you mean".
    pub fn names() -> impl Iterator<Item = &'static str> {
        Measure::ALL
            .into_iter()
            .map(Measure::name)
            .chain(["exercise", "gym", "machine", "hour", "weekday"])
    }

    /// The kind of value it takes.
    pub fn value_type(self) -> FieldType {
        match self {
            Field::Measure(m) => FieldType::Quantity(m.dimension()),
            Field::Hour => FieldType::Quantity(Dimension::Count),
            Field::Exercise | Field::Gym | Field::Machine => FieldType::Text,
            Field::Weekday => FieldType::Weekday,
        }
    }

    /// Per set or per workout.
    pub fn level(self) -> Level {
        match self {
            Field::Measure(m) => m.level(),
            _ => Level::Workout,
        }
    }
}

/// The weekday written as `mon` ... `sun`.
pub fn weekday_from_name(name: &str) -> Option<Weekday> {
    Some(match name {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// The weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A profile figure a template can look up (`profile.best_speed(treadmill)`; data.md,
/// "Profiles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileFigure {
    /// `one_rep_max(EX)`: `one_rep_max_kg`.
    OneRepMax,
    /// `max_reps(EX)`.
    MaxReps,
    /// `max_reps_per_min(EX)`.
    MaxRepsPerMin,
    /// `best_speed(EX)`: `best_speed_kmh`.
    BestSpeed,
    /// `best_distance(EX)`: `best_distance_m`.
    BestDistance,
    /// `weekly_workouts`.
    WeeklyWorkouts,
    /// `weekly_distance(EX)`: `weekly_distance_m`.
    WeeklyDistance,
    /// `weekly_duration(EX)`: `weekly_duration_s`.
    WeeklyDuration,
    /// `body_weight`: `body_weight_kg`.
    BodyWeight,
}

impl ProfileFigure {
    /// Every figure.
    pub const ALL: [ProfileFigure; 9] = [
        ProfileFigure::OneRepMax,
        ProfileFigure::MaxReps,
        ProfileFigure::MaxRepsPerMin,
        ProfileFigure::BestSpeed,
        ProfileFigure::BestDistance,
        ProfileFigure::WeeklyWorkouts,
        ProfileFigure::WeeklyDistance,
        ProfileFigure::WeeklyDuration,
        ProfileFigure::BodyWeight,
    ];

    /// The name after `profile.`.
    pub fn name(self) -> &'static str {
        match self {
            ProfileFigure::OneRepMax => "one_rep_max",
            ProfileFigure::MaxReps => "max_reps",
            ProfileFigure::MaxRepsPerMin => "max_reps_per_min",
            ProfileFigure::BestSpeed => "best_speed",
            ProfileFigure::BestDistance => "best_distance",
            ProfileFigure::WeeklyWorkouts => "weekly_workouts",
            ProfileFigure::WeeklyDistance => "weekly_distance",
            ProfileFigure::WeeklyDuration => "weekly_duration",
            ProfileFigure::BodyWeight => "body_weight",
        }
    }

    /// The figure with this name.
    pub fn from_name(name: &str) -> Option<ProfileFigure> {
        ProfileFigure::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether it takes an exercise (`one_rep_max(leg_press)`) or not (`body_weight`).
    pub fn takes_exercise(self) -> bool {
        !matches!(
            self,
            ProfileFigure::WeeklyWorkouts | ProfileFigure::BodyWeight
        )
    }

    /// The dimension of its value.
    pub fn dimension(self) -> Dimension {
        match self {
            ProfileFigure::OneRepMax | ProfileFigure::BodyWeight => Dimension::Mass,
            ProfileFigure::MaxReps
            | ProfileFigure::MaxRepsPerMin
            | ProfileFigure::WeeklyWorkouts => Dimension::Count,
            ProfileFigure::BestSpeed => Dimension::Speed,
            ProfileFigure::BestDistance | ProfileFigure::WeeklyDistance => Dimension::Distance,
            ProfileFigure::WeeklyDuration => Dimension::Duration,
        }
    }

    /// The unit the profile stores it in (language.md §5: a bound value prints in this unit
    /// when the expression's first figure is this one).
    pub fn unit(self) -> Option<&'static str> {
        match self {
            ProfileFigure::OneRepMax | ProfileFigure::BodyWeight => Some("kg"),
            ProfileFigure::BestSpeed => Some("km/h"),
            ProfileFigure::BestDistance | ProfileFigure::WeeklyDistance => Some("m"),
            ProfileFigure::WeeklyDuration => Some("s"),
            ProfileFigure::MaxReps
            | ProfileFigure::MaxRepsPerMin
            | ProfileFigure::WeeklyWorkouts => None,
        }
    }
}

/// A function of param expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    /// `round(x)`, halves away from zero; counts only.
    Round,
    /// `floor(x)`; counts only.
    Floor,
    /// `ceil(x)`; counts only.
    Ceil,
    /// `round_to(x, step)`: the nearest multiple of step.
    RoundTo,
    /// `min(a, b)`.
    Min,
    /// `max(a, b)`.
    Max,
    /// `clamp(x, lo, hi)`.
    Clamp,
}

impl Function {
    /// Every function.
    pub const ALL: [Function; 7] = [
        Function::Round,
        Function::Floor,
        Function::Ceil,
        Function::RoundTo,
        Function::Min,
        Function::Max,
        Function::Clamp,
    ];

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Function::Round => "round",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::RoundTo => "round_to",
            Function::Min => "min",
            Function::Max => "max",
            Function::Clamp => "clamp",
        }
    }

    /// The function with this name.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Function::Round | Function::Floor | Function::Ceil => 1,
            Function::RoundTo | Function::Min | Function::Max => 2,
            Function::Clamp => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Measure::ALL {
            assert_eq!(Measure::from_name(m.name()), Some(m));
            assert_eq!(Field::from_name(m.name()), Some(Field::Measure(m)));
        }
        for f in ProfileFigure::ALL {
            assert_eq!(ProfileFigure::from_name(f.name()), Some(f));
        }
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        for w in WEEKDAYS {
            assert!(weekday_from_name(w).is_some());
        }
        assert_eq!(Field::names().count(), 14);
    }

    #[test]
    fn levels_follow_the_table() {
        assert_eq!(Measure::Volume.level(), Level::Set);
        assert_eq!(Measure::Speed.level(), Level::Workout);
        assert_eq!(
            Field::Hour.value_type(),
            FieldType::Quantity(Dimension::Count)
        );
        assert_eq!(Field::Weekday.level(), Level::Workout);
    }
}
