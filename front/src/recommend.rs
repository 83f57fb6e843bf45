//! The wire form of a personal challenge with its `--explain`: what `challenge recommend
//! --format json --explain` prints per member and what `POST /v1/users/{id}/recommend`
//! answers.

use rules_core::template::{Binding, FigureUse, Source};
use rules_core::tree::{Expr, Quantity};
use rules_core::Challenge;
use serde::Serialize;

/// A personal challenge with the explanation of each param.
#[derive(Serialize)]
pub struct WithExplain<'a> {
    /// The challenge (its tree).
    pub challenge: &'a Challenge,
    /// Each param: its value and where it came from.
    pub explain: Vec<Explained<'a>>,
}

/// One param of `--explain`.
#[derive(Serialize)]
pub struct Explained<'a> {
    /// The param's name.
    pub param: &'a str,
    /// Its value (`null` when undefined).
    pub value: Option<&'a Quantity>,
    /// `override`, `expression`, `fallback` or `undefined`.
    pub from: Source,
    /// The param's expression, as DSL.
    pub expression: String,
    /// The `else` expression, if any.
    #[serde(rename = "else")]
    pub fallback: Option<String>,
    /// The profile figures the expression read.
    pub figures: &'a [FigureUse],
}

fn expr_text(e: &Expr) -> String {
    let mut s = String::new();
    rules_dsl::printer::expr_text(e, &mut s);
    s
}

/// The explanation of each param of `template`, bound as `bindings` (in the params' order).
pub fn explain<'a>(bindings: &'a [Binding], template: &Challenge) -> Vec<Explained<'a>> {
    bindings
        .iter()
        .zip(&template.params)
        .map(|(b, p)| Explained {
            param: &b.param,
            value: b.value.as_ref(),
            from: b.source,
            expression: expr_text(&p.expr),
            fallback: p.fallback.as_ref().map(expr_text),
            figures: &b.figures,
        })
        .collect()
}
