//! What GPX and TCX tracks share: great-circle distance between points, and times read as
//! their schemas define them.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

/// The mean Earth radius (IUGG), in metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A position in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// A position when both coordinates are numbers in range.
    pub fn new(lat: Option<f64>, lon: Option<f64>) -> Option<Point> {
        let (lat, lon) = (lat?, lon?);
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
            .then_some(Point { lat, lon })
    }
}

/// The haversine distance between two positions, in metres.
pub(crate) fn haversine_m(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The length of a path of positions (consecutive pairs), in metres.
pub(crate) fn path_length_m(points: &[Point]) -> f64 {
    points
        .windows(2)
        .map(|w| match w {
            [a, b] => haversine_m(*a, *b),
            _ => 0.0,
        })
        .sum()
}

/// An `xsd:dateTime` as GPX and TCX write it: RFC 3339, or without an offset (then UTC).
pub(crate) fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(naive.and_utc().fixed_offset())
}

/// A number written in XML text.
pub(crate) fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The arithmetic mean, `None` for no values.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let a = Point { lat: 0.0, lon: 0.0 };
        let b = Point { lat: 1.0, lon: 0.0 };
        assert!((haversine_m(a, b) - 111_195.08).abs() < 0.01);
    }

    #[test]
    fn times_without_offset_are_utc() {
        let t = parse_time("2026-08-02T06:10:00").map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2026-08-02T06:10:00+00:00"));
        assert!(parse_time("yesterday").is_none());
    }
}
