//! Units and dimensions (language.md §6).
//!
//! The tree keeps the unit an author wrote; everything that compares or computes uses the
//! canonical value (`kg`, `m`, `s`, `m/s`, `kcal`, `bpm`, `%`, or a bare count).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The physical dimension of a quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// A bare number.
    Count,
    /// `kg`, `g`, `lb`.
    Mass,
    /// `m`, `km`, `mi`.
    Distance,
    /// `s`, `min`, `h`.
    Duration,
    /// `km/h`, `m/s`, `mph`.
    Speed,
    /// `kcal`, `kJ`.
    Energy,
    /// `bpm`.
    HeartRate,
    /// `%`.
    Percent,
}

impl Dimension {
    /// Every dimension, in the order of language.md §6.
    pub const ALL: [Dimension; 8] = [
        Dimension::Count,
        Dimension::Mass,
        Dimension::Distance,
        Dimension::Duration,
        Dimension::Speed,
        Dimension::Energy,
        Dimension::HeartRate,
        Dimension::Percent,
    ];

    /// The name used in the DSL and the JSON tree.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Count => "count",
            Dimension::Mass => "mass",
            Dimension::Distance => "distance",
            Dimension::Duration => "duration",
            Dimension::Speed => "speed",
            Dimension::Energy => "energy",
            Dimension::HeartRate => "heart_rate",
            Dimension::Percent => "percent",
        }
    }

    /// The dimension with this name.
    pub fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The canonical unit's symbol, `None` for counts.
    pub fn canonical_unit(self) -> Option<&'static str> {
        match self {
            Dimension::Count => None,
            Dimension::Mass => Some("kg"),
            Dimension::Distance => Some("m"),
            Dimension::Duration => Some("s"),
            Dimension::Speed => Some("m/s"),
            Dimension::Energy => Some("kcal"),
            Dimension::HeartRate => Some("bpm"),
            Dimension::Percent => Some("%"),
        }
    }

    /// An example quantity of this dimension, for help texts (`40 kg`).
    pub fn example(self) -> &'static str {
        match self {
            Dimension::Count => "30",
            Dimension::Mass => "40 kg",
            Dimension::Distance => "5 km",
            Dimension::Duration => "20 min",
            Dimension::Speed => "8 km/h",
            Dimension::Energy => "300 kcal",
            Dimension::HeartRate => "140 bpm",
            Dimension::Percent => "2 %",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A unit the DSL accepts: its symbol, dimension and factor to the canonical unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    /// The symbol as written (`km/h`).
    pub symbol: &'static str,
    /// Its dimension.
    pub dimension: Dimension,
    /// Canonical value of one of this unit.
    pub factor: f64,
}

/// Every unit of language.md §6, longest symbols first so that a longest match is a first match.
pub const UNITS: [Unit; 16] = [
    unit("km/h", Dimension::Speed, 1000.0 / 3600.0),
    unit("m/s", Dimension::Speed, 1.0),
    unit("kcal", Dimension::Energy, 1.0),
    unit("mph", Dimension::Speed, 1609.344 / 3600.0),
    unit("bpm", Dimension::HeartRate, 1.0),
    unit("min", Dimension::Duration, 60.0),
    unit("kg", Dimension::Mass, 1.0),
    unit("lb", Dimension::Mass, 0.45359237),
    unit("km", Dimension::Distance, 1000.0),
    unit("mi", Dimension::Distance, 1609.344),
    unit("kJ", Dimension::Energy, 1.0 / 4.184),
    unit("g", Dimension::Mass, 0.001),
    unit("m", Dimension::Distance, 1.0),
    unit("s", Dimension::Duration, 1.0),
    unit("h", Dimension::Duration, 3600.0),
    unit("%", Dimension::Percent, 1.0),
];

const fn unit(symbol: &'static str, dimension: Dimension, factor: f64) -> Unit {
    Unit {
        symbol,
        dimension,
        factor,
    }
}

/// The unit with this symbol.
pub fn lookup(symbol: &str) -> Option<Unit> {
    UNITS.into_iter().find(|u| u.symbol == symbol)
}

/// The dimension and canonical value of `value` written in `unit` (`None` = a count).
/// `None` when the unit is unknown.
pub fn canonical(value: f64, unit: Option<&str>) -> Option<(Dimension, f64)> {
    match unit {
        None => Some((Dimension::Count, value)),
        Some(symbol) => lookup(symbol).map(|u| (u.dimension, value * u.factor)),
    }
}

/// Converts a canonical value into `unit` (the inverse of [`canonical`]).
pub fn from_canonical(value: f64, unit: Option<&str>) -> f64 {
    match unit.and_then(lookup) {
        Some(u) => value / u.factor,
        None => value,
    }
}

/// Equality with the tolerance of language.md §4: `|a − b| <= 1e-9 × max(1, |a|, |b|)`.
pub fn approx_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * 1f64.max(a.abs()).max(b.abs())
}

/// `a >= b` with the tolerance of [`approx_eq`].
pub fn approx_ge(a: f64, b: f64) -> bool {
    a >= b || approx_eq(a, b)
}

/// `a <= b` with the tolerance of [`approx_eq`].
pub fn approx_le(a: f64, b: f64) -> bool {
    a <= b || approx_eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_the_spec_table() {
        assert_eq!(
            canonical(1.0, Some("lb")),
            Some((Dimension::Mass, 0.45359237))
        );
        assert_eq!(
            canonical(2.0, Some("mi")),
            Some((Dimension::Distance, 3218.688))
        );
        assert_eq!(
            canonical(12.0, Some("min")),
            Some((Dimension::Duration, 720.0))
        );
        assert_eq!(
            canonical(36.0, Some("km/h")),
            Some((Dimension::Speed, 10.0))
        );
        let (d, v) = canonical(4.184, Some("kJ")).unwrap_or((Dimension::Count, 0.0));
        assert_eq!(d, Dimension::Energy);
        assert!(approx_eq(v, 1.0));
        assert_eq!(canonical(3.0, None), Some((Dimension::Count, 3.0)));
        assert_eq!(canonical(3.0, Some("furlong")), None);
    }

    #[test]
    fn from_canonical_inverts_canonical() {
        for u in UNITS {
            let (_, c) = canonical(7.5, Some(u.symbol)).unwrap_or((Dimension::Count, 0.0));
            assert!(
                approx_eq(from_canonical(c, Some(u.symbol)), 7.5),
                "{}",
                u.symbol
            );
        }
    }

    #[test]
    fn longest_symbols_come_first() {
        for (i, a) in UNITS.iter().enumerate() {
            for b in UNITS.iter().skip(i + 1) {
                assert!(
                    !b.symbol.starts_with(a.symbol),
                    "{} shadows {}",
                    a.symbol,
                    b.symbol
                );
            }
        }
    }

    #[test]
    fn tolerance_is_relative_above_one() {
        assert!(approx_eq(1e12, 1e12 + 1.0));
        assert!(!approx_eq(1.0, 1.0 + 1e-8));
        assert!(approx_ge(30.0 - 1e-12, 30.0));
        assert!(!approx_ge(29.99, 30.0));
    }
}
