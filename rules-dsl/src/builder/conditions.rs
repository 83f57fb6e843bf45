//! `where` conditions (language.md §4): `or`, `and`, `not`, comparisons and `in`, and the
//! values a field wants; nested at most `MAX_CONDITION_DEPTH` levels.

use pest::iterators::Pair;
use rules_core::catalog::is_keyword;
use rules_core::diagnostic::Code;
use rules_core::limits::MAX_CONDITION_DEPTH;
use rules_core::span::{Span, Spanned};
use rules_core::tree::{CmpOp, Condition, Value};
use rules_core::vocab::weekday_from_name;

use crate::parser::Rule;

use super::{inner, Builder};

impl Builder {
    pub(super) fn condition_too_deep(&mut self, span: Span) {
        if !self.condition_depth_reported {
            self.condition_depth_reported = true;
            self.error(
                Code::E0013,
                span,
                format!("conditions are nested more than {MAX_CONDITION_DEPTH} levels deep"),
                Some(
                    "simplify the condition: `not not x` is `x`, and nested `and`s can be one"
                        .into(),
                ),
            );
        }
    }

    /// `a or b or c` at `depth`: one node for the chain, or the single term itself.
    pub(super) fn or_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        self.chain(
            p,
            depth,
            Rule::and_cond,
            Builder::and_cond,
            |terms, span| Condition::Or { terms, span },
        )
    }

    /// `a and b and c` at `depth`: one node for the chain, or the single term itself.
    pub(super) fn and_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        self.chain(
            p,
            depth,
            Rule::not_cond,
            Builder::not_cond,
            |terms, span| Condition::And { terms, span },
        )
    }

    /// A chain of one operator: the terms of rule `term_rule`, built by `build`, in one `node`.
    pub(super) fn chain(
        &mut self,
        p: Pair<'_, Rule>,
        depth: usize,
        term_rule: Rule,
        build: fn(&mut Builder, Pair<'_, Rule>, usize) -> Option<Condition>,
        node: fn(Vec<Condition>, Span) -> Condition,
    ) -> Option<Condition> {
        let span = self.span(&p);
        let terms: Vec<Pair<'_, Rule>> = inner(p).filter(|t| t.as_rule() == term_rule).collect();
        if terms.len() == 1 {
            return terms.into_iter().next().and_then(|t| build(self, t, depth));
        }
        if depth > MAX_CONDITION_DEPTH {
            self.condition_too_deep(span);
            return None;
        }
        let built = self.terms(terms, depth + 1, build)?;
        Some(node(built, span))
    }

    pub(super) fn terms<'i>(
        &mut self,
        terms: Vec<Pair<'i, Rule>>,
        depth: usize,
        build: fn(&mut Builder, Pair<'i, Rule>, usize) -> Option<Condition>,
    ) -> Option<Vec<Condition>> {
        let mut out = Vec::with_capacity(terms.len());
        let mut ok = true;
        for t in terms {
            match build(self, t, depth) {
                Some(c) => out.push(c),
                None => ok = false,
            }
            if self.condition_depth_reported {
                return None;
            }
        }
        ok.then_some(out)
    }

    /// `not not ... atom`: the `not`s are counted first and folded without recursion.
    pub(super) fn not_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        let mut nots: Vec<usize> = Vec::new();
        let mut atom = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::kw_not => nots.push(self.span(&q).start as usize),
                Rule::cond_atom => atom = Some(q),
                _ => {}
            }
        }
        let atom = atom?;
        if depth + nots.len() > MAX_CONDITION_DEPTH {
            let at = nots
                .get(MAX_CONDITION_DEPTH.saturating_sub(depth))
                .copied()
                .unwrap_or_default();
            self.condition_too_deep(Span::new(at, at + 3));
            return None;
        }
        let mut cond = self.cond_atom(atom, depth + nots.len())?;
        for start in nots.into_iter().rev() {
            let span = Span::new(start, cond.span().end as usize);
            cond = Condition::Not {
                term: Box::new(cond),
                span,
            };
        }
        Some(cond)
    }

    pub(super) fn cond_atom(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        if depth > MAX_CONDITION_DEPTH {
            self.condition_too_deep(span);
            return None;
        }
        match q.as_rule() {
            Rule::paren_cond => {
                let c = inner(q).find(|c| c.as_rule() == Rule::or_cond)?;
                self.or_cond(c, depth)
            }
            Rule::compare => {
                let mut field = None;
                let mut op = None;
                let mut value = None;
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::field => {
                            field = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::cmp_op => op = CmpOp::from_symbol(r.as_str()),
                        Rule::value => {
                            let f: &Option<Spanned<String>> = &field;
                            let name = f.as_ref().map(|f| f.node.clone()).unwrap_or_default();
                            let form = format!(
                                "{name} {} {}",
                                op.map_or("==", CmpOp::symbol),
                                fixed_value(&r, &name)
                            );
                            value = Some(self.value(r, &name, &form));
                        }
                        _ => {}
                    }
                }
                Some(Condition::Compare {
                    field: field?,
                    op: op?,
                    value: value??,
                    span,
                })
            }
            Rule::in_cond => {
                let mut field: Option<Spanned<String>> = None;
                let mut values = Vec::new();
                let mut ok = true;
                // The help of a wrongly written value shows the whole list written right.
                let name = inner(q.clone())
                    .find(|r| r.as_rule() == Rule::field)
                    .map(|f| f.as_str().to_owned())
                    .unwrap_or_default();
                let fixed: Vec<String> = inner(q.clone())
                    .filter(|r| r.as_rule() == Rule::value)
                    .map(|r| fixed_value(&r, &name))
                    .collect();
                let form = format!("{name} in ({})", fixed.join(", "));
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::field => {
                            field = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::value => match self.value(r, &name, &form) {
                            Some(v) => values.push(v),
                            None => ok = false,
                        },
                        _ => {}
                    }
                }
                if !ok {
                    return None;
                }
                Some(Condition::In {
                    field: field?,
                    values,
                    span,
                })
            }
            _ => None,
        }
    }

    /// A condition value for `field` (the field decides how strings and bare words are read).
    /// `form` is the whole condition written right ([`fixed_value`] for every value), the help
    /// of a value in the wrong form.
    pub(super) fn value(&mut self, p: Pair<'_, Rule>, field: &str, form: &str) -> Option<Value> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        match q.as_rule() {
            Rule::quantity => self.quantity(q).map(Value::Quantity),
            Rule::param_ref => Some(Value::Param(self.param_ref(&q))),
            Rule::string => {
                let s = self.string(q);
                if field == "weekday" {
                    let help = if weekday_from_name(&s.node.to_lowercase()).is_some() {
                        format!("write `{form}`")
                    } else {
                        "write a day without quotes: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`"
                            .into()
                    };
                    self.error(
                        Code::E0001,
                        span,
                        format!(
                            "weekdays are written without quotes, found `\"{}\"`",
                            s.node.escape_debug()
                        ),
                        Some(help),
                    );
                    return None;
                }
                Some(Value::Str(s))
            }
            _ => {
                let text = q.as_str();
                if matches!(field, "gym" | "machine") {
                    self.error(
                        Code::E0001,
                        span,
                        format!("a `{field}` value is written in quotes, found `{text}`"),
                        Some(format!("write `{form}`")),
                    );
                    return None;
                }
                if is_keyword(text) {
                    self.error(
                        Code::E0001,
                        span,
                        format!("`{text}` is a reserved word and cannot be an exercise id"),
                        Some("exercise ids are names such as `leg_press` or `treadmill`".into()),
                    );
                    return None;
                }
                Some(Value::Str(Spanned::new(text.to_owned(), span)))
            }
        }
    }
}

/// A condition value's text as `field` wants it: a weekday named in quotes unquoted, a bare
/// gym or machine in quotes, anything else as written. The pieces of the help's `write ...`
/// form, which must itself parse (and, where the rest is right, check).
fn fixed_value(value: &Pair<'_, Rule>, field: &str) -> String {
    let Some(q) = inner(value.clone()).next() else {
        return value.as_str().to_owned();
    };
    let text = q.as_str();
    match q.as_rule() {
        Rule::string if field == "weekday" => {
            let day = text.trim_matches('"').to_lowercase();
            if weekday_from_name(&day).is_some() {
                day
            } else {
                text.to_owned()
            }
        }
        Rule::bare_word if matches!(field, "gym" | "machine") => format!("\"{text}\""),
        _ => text.to_owned(),
    }
}
