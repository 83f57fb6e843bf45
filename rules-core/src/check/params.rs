//! Template params: their declarations (E0011, E0007 against the declared dimension) and the
//! typing of param expressions (language.md §5).
//!
//! Dimensions combine as physics does: `+`, `-`, `min`, `max`, `clamp` and `round_to` need equal
//! dimensions; a count scales anything (`mass * count` is a mass, `mass / count` a mass); a
//! dimension divided by itself is a count; `speed * duration` is a distance, `distance /
//! duration` a speed and `distance / speed` a duration. Anything else (`mass * mass`,
//! `count / duration`) has no dimension in the language and is E0007. `round`, `floor` and
//! `ceil` take counts only. [`expr_dimension`] is public so the recommender can type an
//! expression the same way; it never evaluates anything.

use std::collections::HashMap;

use super::path::Path;
use super::{a_dimension, check_number, quantity_dimension, show, Checker};
use crate::catalog::{is_identifier, is_keyword, Catalog, Category};
use crate::diagnostic::{closest, did_you_mean, Code, Diagnostic};
use crate::limits::MAX_EXPR_DEPTH;
use crate::span::Span;
use crate::tree::{BinOp, Challenge, DeclKind, Expr};
use crate::units::Dimension;
use crate::vocab::{Function, ProfileFigure};

/// The dimension of a param expression, given the dimensions of the params it may use.
///
/// `Err` holds every problem found (E0001 unknown function or wrong number of arguments or
/// unknown unit, E0006 unknown profile figure, E0007 dimension mismatch, E0011 unknown param,
/// E0013 nested too deep), with paths relative to the expression (`args[0]`; the empty path is
/// the expression itself). Exercise names are not checked here (that needs the catalog; the
/// checker does it).
pub fn expr_dimension(
    expr: &Expr,
    params: &HashMap<String, Dimension>,
) -> Result<Dimension, Vec<Diagnostic>> {
    let mut typer = Typer {
        known: params,
        later: &[],
        current: None,
        catalog: None,
        depth_reported: false,
        out: Vec::new(),
    };
    let dimension = typer.expr(expr, &Path::root(None), 1);
    match dimension {
        Some(d) if typer.out.iter().all(|d| !d.is_error()) => Ok(d),
        _ => Err(typer.out),
    }
}

/// Types one expression, collecting diagnostics.
struct Typer<'a> {
    /// Params declared before this one.
    known: &'a HashMap<String, Dimension>,
    /// Params declared after this one (a reference to one is a forward reference).
    later: &'a [&'a str],
    /// The param being declared (a reference to it is a self-reference).
    current: Option<&'a str>,
    /// The catalog, to check exercise names (E0005).
    catalog: Option<&'a Catalog>,
    depth_reported: bool,
    out: Vec<Diagnostic>,
}

impl Typer<'_> {
    fn report(
        &mut self,
        code: Code,
        message: String,
        help: Option<String>,
        span: Span,
        path: &Path,
    ) {
        self.out
            .push(Diagnostic::new(code, message, span, path.as_str()).with_optional_help(help));
    }

    /// The dimension of `expr`, or `None` when it has an error (already reported).
    fn expr(&mut self, expr: &Expr, path: &Path, depth: usize) -> Option<Dimension> {
        if depth > MAX_EXPR_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                self.report(
                    Code::E0013,
                    format!(
                        "this param expression is nested more than {MAX_EXPR_DEPTH} levels deep"
                    ),
                    Some("split it into several params".into()),
                    expr.span(),
                    path,
                );
            }
            return None;
        }
        match expr {
            Expr::Number { value, .. } => {
                check_number(value, path, &mut self.out);
                quantity_dimension(value, path, &mut self.out)
            }
            Expr::Param { name, span } => self.param(&name.node, *span, path),
            Expr::Binary {
                op,
                left,
                right,
                span,
                ..
            } => {
                let l = self.expr(left, &path.key("left"), depth + 1);
                let r = self.expr(right, &path.key("right"), depth + 1);
                let (l, r) = (l?, r?);
                let result = combine(*op, l, r);
                if result.is_none() {
                    let message = match op {
                        BinOp::Add | BinOp::Sub => format!(
                            "cannot {} {} and {}",
                            if *op == BinOp::Add { "add" } else { "subtract" },
                            a_dimension(l),
                            a_dimension(r)
                        ),
                        BinOp::Mul => {
                            format!("cannot multiply {} by {}", a_dimension(l), a_dimension(r))
                        }
                        BinOp::Div => {
                            format!("cannot divide {} by {}", a_dimension(l), a_dimension(r))
                        }
                    };
                    let help = match op {
                        BinOp::Add | BinOp::Sub => "both sides of `+` and `-` must have the same dimension",
                        BinOp::Mul | BinOp::Div => {
                            "a count can scale any value; a value divided by one of the same dimension is a count"
                        }
                    };
                    self.report(Code::E0007, message, Some(help.into()), *span, path);
                }
                result
            }
            Expr::Call { func, args, span } => {
                self.call(&func.node, func.span, args, *span, path, depth)
            }
            Expr::Profile {
                metric,
                exercise,
                span,
                ..
            } => self.profile(metric, exercise.as_ref(), *span, path),
        }
    }

    fn param(&mut self, name: &str, span: Span, path: &Path) -> Option<Dimension> {
        if let Some(&d) = self.known.get(name) {
            return Some(d);
        }
        if self.current == Some(name) {
            self.report(
                Code::E0011,
                format!("param `{name}` refers to itself"),
                Some("a param can only use params declared before it".into()),
                span,
                path,
            );
        } else if self.later.contains(&name) {
            let help = match self.current {
                Some(current) => format!("declare `{name}` before `{current}`"),
                None => format!("declare `{name}` earlier"),
            };
            self.report(
                Code::E0011,
                format!("`${name}` is used before it is declared"),
                Some(help),
                span,
                path,
            );
        } else {
            let help = closest(name, self.known.keys().map(String::as_str))
                .map(|c| format!("did you mean `${c}`?"))
                .unwrap_or_else(|| "a param can only use params declared before it".into());
            self.report(
                Code::E0011,
                format!("unknown param `${name}`"),
                Some(help),
                span,
                path,
            );
        }
        None
    }

    fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
        path: &Path,
        depth: usize,
    ) -> Option<Dimension> {
        let dims: Vec<Option<Dimension>> = args
            .iter()
            .enumerate()
            .map(|(i, a)| self.expr(a, &path.key("args").index(i), depth + 1))
            .collect();
        let Some(func) = Function::from_name(name) else {
            let help = did_you_mean(name, Function::ALL.iter().map(|f| f.name())).unwrap_or_else(|| {
                "the functions are `round`, `floor`, `ceil`, `round_to`, `min`, `max` and `clamp`".into()
            });
            self.report(
                Code::E0001,
                format!("unknown function {}", show(name)),
                Some(help),
                name_span,
                &path.key("func"),
            );
            return None;
        };
        if args.len() != func.arity() {
            let usage = match func {
                Function::Round | Function::Floor | Function::Ceil => {
                    format!("`{}(x)`", func.name())
                }
                Function::RoundTo => "`round_to(x, step)`".into(),
                Function::Min | Function::Max => format!("`{}(a, b)`", func.name()),
                Function::Clamp => "`clamp(x, lo, hi)`".into(),
            };
            self.report(
                Code::E0001,
                format!(
                    "`{}` takes {} argument{}, not {}",
                    func.name(),
                    func.arity(),
                    if func.arity() == 1 { "" } else { "s" },
                    args.len()
                ),
                Some(format!("write {usage}")),
                span,
                path,
            );
            return None;
        }
        let known: Vec<Dimension> = dims.iter().copied().collect::<Option<Vec<_>>>()?;
        match func {
            Function::Round | Function::Floor | Function::Ceil => {
                let d = known.first().copied()?;
                if d == Dimension::Count {
                    return Some(d);
                }
                let help = super::example_unit(d)
                    .map(|u| format!("to round {}, use `round_to(x, 1 {u})`", a_dimension(d)))
                    .unwrap_or_default();
                self.report(
                    Code::E0007,
                    format!(
                        "`{}` works on counts only, but its argument is {}",
                        func.name(),
                        a_dimension(d)
                    ),
                    Some(help),
                    span,
                    &path.key("args").index(0),
                );
                None
            }
            Function::RoundTo | Function::Min | Function::Max | Function::Clamp => {
                let first = known.first().copied()?;
                let mismatch = known.iter().enumerate().skip(1).find(|(_, d)| **d != first);
                if let Some((i, &d)) = mismatch {
                    let what = if func == Function::RoundTo {
                        "its step"
                    } else {
                        "another argument"
                    };
                    self.report(
                        Code::E0007,
                        format!(
                            "the arguments of `{}` must have the same dimension, but the first is {} and {what} is {}",
                            func.name(),
                            a_dimension(first),
                            a_dimension(d)
                        ),
                        None,
                        args.get(i).map_or(span, Expr::span),
                        &path.key("args").index(i),
                    );
                    return None;
                }
                Some(first)
            }
        }
    }

    fn profile(
        &mut self,
        metric: &crate::span::Spanned<String>,
        exercise: Option<&crate::span::Spanned<String>>,
        span: Span,
        path: &Path,
    ) -> Option<Dimension> {
        let Some(figure) = ProfileFigure::from_name(&metric.node) else {
            let help = did_you_mean(&metric.node, ProfileFigure::ALL.iter().map(|f| f.name()))
                .unwrap_or_else(|| {
                    let all: Vec<&str> = ProfileFigure::ALL.iter().map(|f| f.name()).collect();
                    format!("the profile figures are {}", super::list(&all))
                });
            self.report(
                Code::E0006,
                format!("unknown profile figure `profile.{}`", metric.node),
                Some(help),
                metric.span,
                &path.key("metric"),
            );
            // The exercise may still be misspelt.
            if let Some(ex) = exercise {
                self.exercise(ex, &path.key("exercise"));
            }
            return None;
        };
        match (figure.takes_exercise(), exercise) {
            (true, None) => {
                self.report(
                    Code::E0001,
                    format!("`profile.{}` needs an exercise", figure.name()),
                    Some(format!(
                        "name an exercise, such as `profile.{}(treadmill)`",
                        figure.name()
                    )),
                    span,
                    path,
                );
                None
            }
            (false, Some(ex)) => {
                self.report(
                    Code::E0001,
                    format!("`profile.{}` does not take an exercise", figure.name()),
                    Some(format!("write `profile.{}`", figure.name())),
                    ex.span,
                    &path.key("exercise"),
                );
                None
            }
            (true, Some(ex)) => {
                self.exercise(ex, &path.key("exercise"));
                Some(figure.dimension())
            }
            (false, None) => Some(figure.dimension()),
        }
    }

    /// E0005 for an exercise of a profile lookup that the catalog does not know.
    fn exercise(&mut self, ex: &crate::span::Spanned<String>, path: &Path) {
        let Some(catalog) = self.catalog else { return };
        if catalog.get(&ex.node).is_some() {
            return;
        }
        if let Some(category) = Category::from_name(&ex.node) {
            self.report(
                Code::E0005,
                format!("`{category}` is a category; a profile lookup needs one exercise"),
                Some("name an exercise, such as `treadmill`".into()),
                ex.span,
                path,
            );
            return;
        }
        let help = did_you_mean(&ex.node, catalog.exercises().map(|e| e.id.as_str()));
        self.report(
            Code::E0005,
            format!("unknown exercise {}", show(&ex.node)),
            help,
            ex.span,
            path,
        );
    }
}

/// The dimension of `l op r`, `None` when the language has none for it.
fn combine(op: BinOp, l: Dimension, r: Dimension) -> Option<Dimension> {
    use Dimension::{Count, Distance, Duration, Speed};
    match op {
        BinOp::Add | BinOp::Sub => (l == r).then_some(l),
        BinOp::Mul => match (l, r) {
            (Count, d) | (d, Count) => Some(d),
            (Speed, Duration) | (Duration, Speed) => Some(Distance),
            _ => None,
        },
        BinOp::Div => match (l, r) {
            (d, Count) => Some(d),
            (a, b) if a == b => Some(Count),
            (Distance, Duration) => Some(Speed),
            (Distance, Speed) => Some(Duration),
            _ => None,
        },
    }
}

impl Checker<'_> {
    /// Checks the params of a declaration and records their dimensions for the goal.
    pub(super) fn params(&mut self, decl: &Challenge, root: &Path) {
        let names: Vec<&str> = decl.params.iter().map(|p| p.name.node.as_str()).collect();
        let mut known: HashMap<String, Dimension> = HashMap::new();
        for (i, param) in decl.params.iter().enumerate() {
            let path = root.key("params").index(i);
            let name = param.name.node.as_str();
            if decl.kind == DeclKind::Challenge {
                self.report(
                    Code::E0011,
                    format!("a challenge cannot declare params (`param {name}`)"),
                    Some(
                        "make the declaration a `template`, or write the value where it is used"
                            .into(),
                    ),
                    param.span,
                    &path,
                );
            }
            let name_path = path.key("name");
            if !is_identifier(name) || is_keyword(name) {
                let why = if is_keyword(name) {
                    "is a reserved word"
                } else {
                    "is not a valid name"
                };
                self.report(
                    Code::E0001,
                    format!("{} {why} for a param", show(name)),
                    Some("param names are lowercase letters, digits and `_`, starting with a letter, and not a keyword".into()),
                    param.name.span,
                    &name_path,
                );
            }
            if known.contains_key(name) {
                self.report(
                    Code::E0011,
                    format!("param `{name}` is declared twice"),
                    Some("rename one of them".into()),
                    param.name.span,
                    &name_path,
                );
            }
            let later: Vec<&str> = names.iter().skip(i + 1).copied().collect();
            let declared = param.dimension.node;
            let mut typer = Typer {
                known: &known,
                later: &later,
                current: Some(name),
                catalog: Some(self.catalog),
                depth_reported: false,
                out: Vec::new(),
            };
            let expr_path = path.key("expr");
            let dim = typer.expr(&param.expr, &expr_path, 1);
            let fallback_path = path.key("fallback");
            let fallback_dim = param
                .fallback
                .as_ref()
                .map(|f| (f, typer.expr(f, &fallback_path, 1)));
            self.out.append(&mut typer.out);
            if let Some(d) = dim.filter(|&d| d != declared) {
                self.report(
                    Code::E0007,
                    format!(
                        "param `{name}` is declared as {} but its expression is {}",
                        a_dimension(declared),
                        a_dimension(d)
                    ),
                    Some(format!(
                        "declare it as `param {name}: {d} = ...`, or change the expression"
                    )),
                    param.expr.span(),
                    &expr_path,
                );
            }
            if let Some((fallback, Some(d))) = fallback_dim {
                if d != declared {
                    self.report(
                        Code::E0007,
                        format!(
                            "param `{name}` is declared as {} but its `else` value is {}",
                            a_dimension(declared),
                            a_dimension(d)
                        ),
                        Some(format!(
                            "write {} such as `{}`",
                            a_dimension(declared),
                            declared.example()
                        )),
                        fallback.span(),
                        &fallback_path,
                    );
                }
            }
            known.entry(name.to_owned()).or_insert(declared);
        }
        self.params = known;
    }
}
