//! The header of a declaration: its items (`title`, `window`, `timezone`, `groups`, `gyms`,
//! `teams`, `reward`, `tier`, `param`, `goal`), string literals, dates and whole numbers.

use chrono::NaiveDate;
use pest::iterators::Pair;
use rules_core::diagnostic::Code;
use rules_core::span::{Span, Spanned};
use rules_core::tree::{Reward, Tier, Window};

use crate::parser::Rule;

use super::{inner, Builder, Header, Layout};

impl Builder {
    pub(super) fn item(&mut self, p: Pair<'_, Rule>, h: &mut Header, layout: &mut Layout) {
        let span = self.span(&p);
        let rule = p.as_rule();
        // Fields that may be given once: where the first one was.
        let slot = match rule {
            Rule::title_field => Some(("title", &mut layout.title)),
            Rule::description_field => Some(("description", &mut layout.description)),
            Rule::window_field => Some(("window", &mut layout.window)),
            Rule::timezone_field => Some(("timezone", &mut layout.timezone)),
            Rule::groups_field => Some(("groups", &mut layout.groups)),
            Rule::gyms_field => Some(("gyms", &mut layout.gyms)),
            Rule::teams_field => Some(("teams", &mut layout.teams)),
            Rule::goal_field => Some(("goal", &mut layout.goal)),
            _ => None,
        };
        if let Some((name, seen)) = slot {
            if seen.is_some() {
                self.error(
                    Code::E0002,
                    span,
                    format!("`{name}` is given twice"),
                    Some(format!(
                        "a declaration has one `{name}`; remove one of them"
                    )),
                );
                return;
            }
            *seen = span;
        }
        match rule {
            Rule::title_field => h.title = self.first_string(p),
            Rule::description_field => h.description = self.first_string(p),
            Rule::timezone_field => h.timezone = self.first_string(p),
            Rule::groups_field => h.groups = Some(self.strings(p)),
            Rule::gyms_field => h.gyms = Some(self.strings(p)),
            Rule::teams_field => h.teams = Some(self.strings(p)),
            Rule::tier_field => {
                if let Some(t) = self.tier(p) {
                    h.tiers.push(t);
                }
            }
            Rule::window_field => {
                let dates: Vec<Option<Spanned<NaiveDate>>> = inner(p)
                    .filter(|d| d.as_rule() == Rule::date)
                    .map(|d| self.date(d))
                    .collect();
                match dates.as_slice() {
                    [Some(start), Some(end)] => {
                        h.window = Some(Window {
                            start: start.clone(),
                            end: end.clone(),
                        });
                    }
                    _ => h.broken.push("window"),
                }
            }
            Rule::reward_field => {
                if let Some(r) = self.reward(p) {
                    h.rewards.push(r);
                }
            }
            Rule::param_decl => {
                if let Some(param) = self.param(p) {
                    h.params.push(param);
                }
            }
            Rule::goal_field => {
                h.goal = inner(p)
                    .find(|g| g.as_rule() == Rule::goal)
                    .and_then(|g| self.goal(g, 1));
                if h.goal.is_none() {
                    h.broken.push("goal");
                }
            }
            _ => {}
        }
    }

    pub(super) fn first_string(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<String>> {
        inner(p)
            .find(|s| s.as_rule() == Rule::string)
            .map(|s| self.string(s))
    }

    pub(super) fn strings(&mut self, p: Pair<'_, Rule>) -> Vec<Spanned<String>> {
        inner(p)
            .filter(|s| s.as_rule() == Rule::string)
            .map(|s| self.string(s))
            .collect()
    }

    pub(super) fn reward(&mut self, p: Pair<'_, Rule>) -> Option<Reward> {
        let span = self.span(&p);
        let mut name = None;
        let mut points = None;
        let mut tier = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::string => name = Some(self.string(q).node),
                Rule::number => points = Some(self.whole_number(q, "points")?.node),
                Rule::reward_tier => tier = self.first_string(q),
                _ => {}
            }
        }
        Some(Reward {
            name: name?,
            points,
            tier,
            span,
        })
    }

    /// `tier "name" at QUANTITY`; whether the quantity is a percent in range is the checker's
    /// (E0014). A `$param` threshold is E0001.
    pub(super) fn tier(&mut self, p: Pair<'_, Rule>) -> Option<Tier> {
        let span = self.span(&p);
        let mut name = None;
        let mut at = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::string => name = Some(self.string(q).node),
                Rule::quantity => at = Some(self.quantity(q)?),
                Rule::param_ref => {
                    self.error(
                        Code::E0001,
                        self.span(&q),
                        format!("a tier threshold cannot be a param (`{}`)", q.as_str()),
                        Some("write a literal percent such as `at 50 %`".into()),
                    );
                    return None;
                }
                _ => {}
            }
        }
        Some(Tier {
            name: name?,
            at: at?,
            span,
        })
    }

    /// A string literal, unescaped; the span covers the quotes.
    pub(super) fn string(&mut self, p: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&p);
        let raw = inner(p)
            .find(|q| q.as_rule() == Rule::string_inner)
            .map(|q| q.as_str())
            .unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, other)) => {
                    // +1 for the opening quote.
                    let at = span.start as usize + 1 + i;
                    self.error(
                        Code::E0001,
                        Span::new(at, at + 1 + other.len_utf8()),
                        format!(
                            "unknown escape `\\{}` in a quoted text",
                            other.escape_debug()
                        ),
                        Some("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`".into()),
                    );
                }
                None => {}
            }
        }
        Spanned::new(out, span)
    }

    pub(super) fn date(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<NaiveDate>> {
        let span = self.span(&p);
        let text = p.as_str();
        let part = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok());
        let (y, m, d) = (part(0..4)?, part(5..7)?, part(8..10)?);
        match i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        {
            Some(date) => Some(Spanned::new(date, span)),
            None => {
                let help = if (1..=12).contains(&m) {
                    let days = days_in_month(y, m);
                    format!("{} {y} has {days} days", month_name(m))
                } else {
                    "months run from 01 to 12".to_owned()
                };
                self.error(
                    Code::E0003,
                    span,
                    format!("`{text}` is not a calendar date"),
                    Some(help),
                );
                None
            }
        }
    }

    /// A whole number (`points`, N).
    pub(super) fn whole_number(&mut self, p: Pair<'_, Rule>, what: &str) -> Option<Spanned<u64>> {
        let span = self.span(&p);
        let text = p.as_str();
        if text.contains('.') {
            self.error(
                Code::E0001,
                span,
                format!("`{text}` is not a whole number; {what} must be whole"),
                Some(format!(
                    "write a whole number such as `{}`",
                    whole_example(text)
                )),
            );
            return None;
        }
        match text.parse::<u64>() {
            Ok(n) => Some(Spanned::new(n, span)),
            Err(_) => {
                self.error(Code::E0001, span, format!("`{text}` is too large"), None);
                None
            }
        }
    }
}

/// `2.5` → `2` (for "write a whole number such as ...").
fn whole_example(text: &str) -> String {
    let whole = text.split('.').next().unwrap_or("1");
    if whole.trim_start_matches('0').is_empty() {
        "1".to_owned()
    } else {
        whole.to_owned()
    }
}

fn month_name(m: u32) -> &'static str {
    match m {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    let y = i32::try_from(y).unwrap_or(2000);
    (28..=31)
        .rev()
        .find(|&d| NaiveDate::from_ymd_opt(y, m, d).is_some())
        .unwrap_or(28)
}
