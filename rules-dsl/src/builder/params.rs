//! Template params and their expressions (language.md §5), quantities with their units, and
//! the N of `at least`, `on` and `streak`; expressions deeper than the limit are E0013.

use pest::iterators::Pair;
use rules_core::catalog::is_keyword;
use rules_core::diagnostic::{did_you_mean, Code};
use rules_core::limits::MAX_EXPR_DEPTH;
use rules_core::span::{Span, Spanned};
use rules_core::tree::{BinOp, Count, Expr, Param, ParamRef, Quantity};
use rules_core::units::{Dimension, UNITS};
use rules_core::vocab::Function;

use crate::parser::Rule;

use super::{inner, quoted, Builder};

impl Builder {
    pub(super) fn param(&mut self, p: Pair<'_, Rule>) -> Option<Param> {
        let span = self.span(&p);
        let mut name = None;
        let mut dimension = None;
        let mut exprs = Vec::new();
        let mut ok = true;
        for q in inner(p) {
            match q.as_rule() {
                Rule::param_name => {
                    let s = self.span(&q);
                    let text = q.as_str();
                    if is_keyword(text) {
                        self.error(
                            Code::E0001,
                            s,
                            format!("`{text}` is a reserved word and cannot be a param name"),
                            Some(format!("choose another name, such as `{text}_target`")),
                        );
                        ok = false;
                    }
                    name = Some(Spanned::new(text.to_owned(), s));
                }
                Rule::dimension => {
                    let s = self.span(&q);
                    let text = q.as_str();
                    match Dimension::from_name(text) {
                        Some(d) => dimension = Some(Spanned::new(d, s)),
                        None => {
                            let help = did_you_mean(text, Dimension::ALL.map(Dimension::name))
                                .unwrap_or_else(|| {
                                    let names: Vec<&str> =
                                        Dimension::ALL.iter().map(|d| d.name()).collect();
                                    format!(
                                        "the dimensions are {}",
                                        crate::errors::join_or(&quoted(&names))
                                    )
                                });
                            self.error(
                                Code::E0001,
                                s,
                                format!("unknown dimension `{text}`"),
                                Some(help),
                            );
                            ok = false;
                        }
                    }
                }
                Rule::expr => match self.expr(q) {
                    Some((e, _)) => exprs.push(e),
                    None => ok = false,
                },
                _ => {}
            }
        }
        if !ok {
            return None;
        }
        let mut exprs = exprs.into_iter();
        Some(Param {
            name: name?,
            dimension: dimension?,
            expr: exprs.next()?,
            fallback: exprs.next(),
            span,
        })
    }

    /// An expression and its depth (levels of nodes).
    pub(super) fn expr(&mut self, p: Pair<'_, Rule>) -> Option<(Expr, usize)> {
        // expr: term (add_op term)*; term: factor (mul_op factor)*. Both fold to the left.
        let mut acc: Option<(Expr, usize)> = None;
        let mut op: Option<BinOp> = None;
        // After a broken operand the others are still built, for their own errors.
        let mut broken = false;
        for q in inner(p) {
            match q.as_rule() {
                Rule::term | Rule::factor => {
                    let operand = if q.as_rule() == Rule::term {
                        self.expr(q)
                    } else {
                        self.factor(q)
                    };
                    let Some(operand) = operand.filter(|_| !broken) else {
                        broken = true;
                        acc = None;
                        continue;
                    };
                    acc = Some(match (acc, op.take()) {
                        (Some((left, ld)), Some(o)) => {
                            let (right, rd) = operand;
                            let depth = ld.max(rd) + 1;
                            let span = left.span().to(right.span());
                            if depth > MAX_EXPR_DEPTH {
                                self.expr_too_deep(span);
                                return None;
                            }
                            (
                                Expr::Binary {
                                    op: o,
                                    left: Box::new(left),
                                    right: Box::new(right),
                                    span,
                                },
                                depth,
                            )
                        }
                        _ => operand,
                    });
                }
                Rule::add_op | Rule::mul_op => {
                    op = Some(match q.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        _ => BinOp::Div,
                    });
                }
                _ => {}
            }
        }
        if broken {
            None
        } else {
            acc
        }
    }

    pub(super) fn expr_too_deep(&mut self, span: Span) {
        if !self.expr_depth_reported {
            self.expr_depth_reported = true;
            self.error(
                Code::E0013,
                span,
                format!("this expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
                Some("split it into several params".into()),
            );
        }
    }

    pub(super) fn factor(&mut self, p: Pair<'_, Rule>) -> Option<(Expr, usize)> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        match q.as_rule() {
            Rule::paren_expr => {
                let e = inner(q).find(|r| r.as_rule() == Rule::expr)?;
                self.expr(e)
            }
            Rule::param_ref => {
                let name = self.param_name_of(&q);
                Some((Expr::Param { name, span }, 1))
            }
            Rule::quantity => {
                let value = self.quantity(q)?;
                Some((Expr::Number { value, span }, 1))
            }
            Rule::profile => {
                let mut words = inner(q).filter(|r| r.as_rule() == Rule::word);
                let metric = words.next()?;
                let metric = Spanned::new(metric.as_str().to_owned(), self.span(&metric));
                let exercise = match words.next() {
                    Some(w) => Some(self.exercise_word(&w)?),
                    None => None,
                };
                Some((
                    Expr::Profile {
                        metric,
                        exercise,
                        span,
                    },
                    1,
                ))
            }
            Rule::call => {
                let mut func = None;
                let mut args = Vec::new();
                let mut depth = 0;
                let mut ok = true;
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::word => {
                            func = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::expr => match self.expr(r) {
                            Some((e, d)) => {
                                depth = depth.max(d);
                                args.push(e);
                            }
                            None => ok = false,
                        },
                        _ => {}
                    }
                }
                let func: Spanned<String> = func?;
                match Function::from_name(&func.node) {
                    None => {
                        let names = Function::ALL.map(Function::name);
                        let help = did_you_mean(&func.node, names).unwrap_or_else(|| {
                            format!(
                                "the functions are {}",
                                crate::errors::join_or(&quoted(&names))
                            )
                        });
                        self.error(
                            Code::E0001,
                            func.span,
                            format!("unknown function `{}`", func.node),
                            Some(help),
                        );
                        return None;
                    }
                    Some(f) if ok && f.arity() != args.len() => {
                        let n = f.arity();
                        self.error(
                            Code::E0001,
                            span,
                            format!(
                                "`{}` takes {n} argument{}, found {}",
                                func.node,
                                if n == 1 { "" } else { "s" },
                                args.len()
                            ),
                            Some(format!("write `{}`", call_example(f))),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                if !ok {
                    return None;
                }
                if depth + 1 > MAX_EXPR_DEPTH {
                    self.expr_too_deep(span);
                    return None;
                }
                Some((Expr::Call { func, args, span }, depth + 1))
            }
            _ => None,
        }
    }

    /// The name of a `$name` pair, spanned without the `$`.
    pub(super) fn param_name_of(&self, p: &Pair<'_, Rule>) -> Spanned<String> {
        let s = self.span(p);
        let name = p.as_str().trim_start_matches('$').to_owned();
        Spanned::new(name, Span::new(s.start as usize + 1, s.end as usize))
    }

    pub(super) fn param_ref(&self, p: &Pair<'_, Rule>) -> ParamRef {
        ParamRef {
            param: p.as_str().trim_start_matches('$').to_owned(),
            span: self.span(p),
        }
    }

    /// An exercise id written as a word: no keyword allowed.
    pub(super) fn exercise_word(&mut self, p: &Pair<'_, Rule>) -> Option<Spanned<String>> {
        let span = self.span(p);
        let text = p.as_str();
        if is_keyword(text) {
            self.error(
                Code::E0001,
                span,
                format!("`{text}` is a reserved word and cannot be an exercise id"),
                Some("exercise ids are names such as `leg_press` or `treadmill`".into()),
            );
            return None;
        }
        Some(Spanned::new(text.to_owned(), span))
    }

    // ----- quantities --------------------------------------------------------------------

    pub(super) fn quantity(&mut self, p: Pair<'_, Rule>) -> Option<Quantity> {
        let span = self.span(&p);
        let mut value = None;
        let mut unit = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::number => {
                    let v: f64 = q.as_str().parse().ok()?;
                    if !v.is_finite() {
                        self.error(
                            Code::E0001,
                            self.span(&q),
                            format!("`{}` is too large", q.as_str()),
                            None,
                        );
                        return None;
                    }
                    value = Some(v);
                }
                Rule::unit => unit = Some(q.as_str().to_owned()),
                Rule::bad_unit => {
                    let text = q.as_str();
                    let symbols = UNITS.map(|u| u.symbol);
                    let lower = text.to_lowercase();
                    let help = symbols
                        .iter()
                        .find(|s| s.to_lowercase() == lower)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| did_you_mean(text, symbols))
                        .unwrap_or_else(|| {
                            format!(
                                "the units are {}",
                                crate::errors::join_or(&quoted(&symbols))
                            )
                        });
                    self.error(
                        Code::E0001,
                        self.span(&q),
                        format!("unknown unit `{text}`"),
                        Some(help),
                    );
                    return None;
                }
                _ => {}
            }
        }
        Some(Quantity {
            value: value?,
            unit,
            span,
        })
    }

    pub(super) fn count(&mut self, p: Pair<'_, Rule>) -> Option<Count> {
        let q = inner(p).next()?;
        match q.as_rule() {
            Rule::param_ref => Some(Count::Param(self.param_ref(&q))),
            _ => self.whole_number(q, "N").map(Count::Literal),
        }
    }
}

fn call_example(f: Function) -> &'static str {
    match f {
        Function::Round => "round($x)",
        Function::Floor => "floor($x)",
        Function::Ceil => "ceil($x)",
        Function::RoundTo => "round_to($x, $step)",
        Function::Min => "min($a, $b)",
        Function::Max => "max($a, $b)",
        Function::Clamp => "clamp($x, $low, $high)",
    }
}
