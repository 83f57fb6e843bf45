//! WebAssembly bindings of the challenge rule engine, for browsers and Node.
//!
//! Thin glue (house style, "Thin bindings"): every export turns its JavaScript arguments into
//! text, calls the front door every entrance shares, `rules_front` (or [`live`]), and turns the JSON it gives back
//! into JavaScript values with `JSON.parse`. No rule of the product lives here; the types of
//! what crosses are in `types.d.ts`, which wasm-bindgen puts into the package's `.d.ts`.
//!
//! Exports: `parse`, `check`, `format`, `decompile`, `evaluate`, `evaluateJsonl`,
//! `vocabulary`, and the `LiveSession` class.
//!
//! **Invariant:** no input from JavaScript traps the module. A wrong argument (not a string
//! where text is needed, a value `JSON.stringify` refuses, a bad `asOf`) and a challenge with
//! errors given to `evaluate` are thrown as an `Error` named `RulesError` (with `diagnostics`
//! when the challenge is the reason); problems *in* a challenge are diagnostics in the result.
//! Size and depth are bounded by the library (1 MiB, 320 JSON levels, 64 goal levels) before
//! anything recurses.

pub mod live;

use js_sys::{Error, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use rules_front::{self as api, ApiError, RecordsInput, TreeInput};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../types.d.ts");

/// A JavaScript argument as the API reads it.
enum Arg {
    /// `undefined` or `null`.
    Missing,
    /// A string, as given.
    Text(String),
    /// Any other value, as `JSON.stringify` writes it.
    Json(String),
}

impl Arg {
    fn read(value: &JsValue, what: &str) -> Result<Arg, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Arg::Missing);
        }
        if let Some(text) = value.as_string() {
            return Ok(Arg::Text(text));
        }
        let json = JSON::stringify(value).map_err(|e| {
            rules_error(&ApiError::new(format!(
                "{what} cannot be written as JSON: {}",
                message_of(&e)
            )))
        })?;
        json.as_string().map(Arg::Json).ok_or_else(|| {
            rules_error(&ApiError::new(format!(
                "{what} is not a JSON value (a function or a symbol?)"
            )))
        })
    }
}

/// The text of a thrown JavaScript value.
fn message_of(e: &JsValue) -> String {
    e.dyn_ref::<Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

/// An [`ApiError`] as a JavaScript `Error` named `RulesError`, with `diagnostics`.
fn rules_error(e: &ApiError) -> JsValue {
    let error = Error::new(&e.message);
    error.set_name("RulesError");
    let diagnostics = to_js(&e.diagnostics).unwrap_or(JsValue::UNDEFINED);
    // Setting a property on a fresh Error object cannot fail; if it did, the message remains.
    let _ = Reflect::set(&error, &JsValue::from_str("diagnostics"), &diagnostics);
    error.into()
}

/// A value as JavaScript receives it: serialized by serde_json, read by `JSON.parse`.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = api::to_json(value).map_err(|e| rules_error(&e))?;
    JSON::parse(&text).map_err(|e| {
        rules_error(&ApiError::new(format!(
            "cannot read JSON: {}",
            message_of(&e)
        )))
    })
}

/// A string argument, or a `RulesError` naming what was expected.
fn string_arg(value: &JsValue, what: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| {
        rules_error(&ApiError::new(format!(
            "{what} must be a string, not {}",
            type_name(value)
        )))
    })
}

fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "an array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// Runs `f` on a challenge argument.
fn with_tree<T>(value: &JsValue, f: impl FnOnce(TreeInput<'_>) -> T) -> Result<T, JsValue> {
    match Arg::read(value, "the challenge")? {
        Arg::Missing => Err(rules_error(&ApiError::new(
            "a challenge is needed: a tree, an array of trees, or DSL or JSON text",
        ))),
        Arg::Text(text) => Ok(f(TreeInput::Text(&text))),
        Arg::Json(json) => Ok(f(TreeInput::Json(&json))),
    }
}

/// A records argument: `undefined`/`null`, JSON Lines text, or an array of records.
fn records(value: &JsValue, what: &str) -> Result<Arg, JsValue> {
    if !value.is_undefined()
        && !value.is_null()
        && value.as_string().is_none()
        && !js_sys::Array::is_array(value)
    {
        return Err(rules_error(&ApiError::new(format!(
            "{what} must be an array of records or a JSON Lines string, not {}",
            type_name(value)
        ))));
    }
    Arg::read(value, what)
}

fn records_input(arg: &Arg) -> RecordsInput<'_> {
    match arg {
        Arg::Missing => RecordsInput::None,
        Arg::Text(text) => RecordsInput::Lines(text),
        Arg::Json(json) => RecordsInput::Array(json),
    }
}

/// DSL text → `{ trees, diagnostics }`: the trees that parsed and every diagnostic (syntax and
/// checks) with lines, columns and UTF-16 offsets.
#[wasm_bindgen(js_name = parse, unchecked_return_type = "ParseResult")]
pub fn parse_js(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = string_arg(&text, "parse: the text")?;
    to_js(&api::parse(&text))
}

/// The diagnostics of a challenge: a tree, an array of trees, or JSON or DSL text.
#[wasm_bindgen(js_name = check, unchecked_return_type = "Diagnostic[]")]
pub fn check_js(
    #[wasm_bindgen(unchecked_param_type = "ChallengeArg")] tree: JsValue,
) -> Result<JsValue, JsValue> {
    to_js(&with_tree(&tree, api::check)?)
}

/// Canonical DSL text (comments kept) → `{ text, diagnostics }`; `text` is null when the
/// source has syntax errors.
#[wasm_bindgen(js_name = format, unchecked_return_type = "TextResult")]
pub fn format_js(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = string_arg(&text, "format: the text")?;
    to_js(&api::format(&text))
}

/// A tree (or array of trees) → `{ text, diagnostics }`: DSL text, null when the tree has
/// errors.
#[wasm_bindgen(js_name = decompile, unchecked_return_type = "TextResult")]
pub fn decompile_js(
    #[wasm_bindgen(unchecked_param_type = "ChallengeArg")] tree: JsValue,
) -> Result<JsValue, JsValue> {
    to_js(&with_tree(&tree, api::decompile)?)
}

/// Evaluates every challenge of `tree` for every user with a record or a workout, as
/// `challenge eval` does. Throws a `RulesError` for a bad `asOf` or a challenge with errors.
#[wasm_bindgen(js_name = evaluate, unchecked_return_type = "Evaluation")]
pub fn evaluate_js(
    #[wasm_bindgen(unchecked_param_type = "ChallengeArg")] tree: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RecordsArg<Workout>")] workouts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RecordsArg<User> | undefined")] users: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] as_of: JsValue,
) -> Result<JsValue, JsValue> {
    let evaluation = evaluate_with(&tree, &workouts, &users, &as_of, api::evaluate)?;
    to_js(&evaluation)
}

/// [`evaluate_js`], giving the text `challenge eval` prints: one JSON line per result.
#[wasm_bindgen(js_name = evaluateJsonl)]
pub fn evaluate_jsonl_js(
    #[wasm_bindgen(unchecked_param_type = "ChallengeArg")] tree: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RecordsArg<Workout>")] workouts: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RecordsArg<User> | undefined")] users: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] as_of: JsValue,
) -> Result<String, JsValue> {
    evaluate_with(&tree, &workouts, &users, &as_of, api::evaluate_jsonl)
}

type EvalFn<T> = fn(TreeInput<'_>, RecordsInput<'_>, RecordsInput<'_>, &str) -> Result<T, ApiError>;

fn evaluate_with<T>(
    tree: &JsValue,
    workouts: &JsValue,
    users: &JsValue,
    as_of: &JsValue,
    f: EvalFn<T>,
) -> Result<T, JsValue> {
    let as_of = string_arg(as_of, "evaluate: asOf")?;
    let workouts = records(workouts, "workouts")?;
    let users = records(users, "users")?;
    with_tree(tree, |tree| {
        f(
            tree,
            records_input(&workouts),
            records_input(&users),
            &as_of,
        )
    })?
    .map_err(|e| rules_error(&e))
}

/// The names the checker accepts (exercises, categories, measures, units, aggregates,
/// periods), for an editor's menus.
#[wasm_bindgen(js_name = vocabulary, unchecked_return_type = "Vocabulary")]
pub fn vocabulary_js() -> Result<JsValue, JsValue> {
    to_js(&api::vocabulary())
}

/// A challenge followed live for one user through one sensor session (`LiveSession` in
/// JavaScript): `push` each event as it arrives and get the result with the workout so far
/// counted. Once `session_end` has arrived the result equals evaluating the saved workout.
#[wasm_bindgen(js_name = LiveSession)]
pub struct LiveSession {
    live: live::Live,
}

#[wasm_bindgen(js_class = LiveSession)]
impl LiveSession {
    /// Starts a live session. Throws a `RulesError` for a challenge with errors (or not exactly
    /// one challenge), a bad `asOf`, or a first event that is not a valid `session_start`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ChallengeArg")] challenge: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RecordsArg<Workout> | undefined")] workouts: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] as_of: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SensorEvent | string")] start: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "User")] user: Option<JsValue>,
    ) -> Result<LiveSession, JsValue> {
        let as_of = string_arg(&as_of, "LiveSession: asOf")?;
        let workouts = records(&workouts, "workouts")?;
        let start = event_text(&start, "LiveSession: the start event")?;
        let user = match Arg::read(&user.unwrap_or(JsValue::UNDEFINED), "the user")? {
            Arg::Json(json) => Arg::Json(format!("[{json}]")),
            Arg::Text(_) => {
                return Err(rules_error(&ApiError::new(
                    "LiveSession: the user must be a user record (an object)",
                )))
            }
            Arg::Missing => Arg::Missing,
        };
        let live = with_tree(&challenge, |tree| {
            live::Live::new(
                tree,
                records_input(&workouts),
                &as_of,
                &start,
                records_input(&user),
            )
        })?
        .map_err(|e| rules_error(&e))?;
        Ok(LiveSession { live })
    }

    /// Takes one sensor event (an object or a JSON line). A malformed event is not thrown: the
    /// update says `outcome: "rejected"` with the reason, and the result is unchanged.
    #[wasm_bindgen(unchecked_return_type = "LiveUpdate")]
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "SensorEvent | string")] event: JsValue,
    ) -> Result<JsValue, JsValue> {
        let update = match event_text(&event, "the event") {
            Ok(text) => self.live.push(&text),
            Err(e) => self.live.reject(message_of(&e)),
        };
        to_js(&update)
    }

    /// The result as of now, without a new event (`outcome: "none"`).
    #[wasm_bindgen(unchecked_return_type = "LiveUpdate")]
    pub fn current(&self) -> Result<JsValue, JsValue> {
        to_js(&self.live.current())
    }
}

/// A sensor event argument as JSON text: a string as given, an object through `JSON.stringify`.
fn event_text(value: &JsValue, what: &str) -> Result<String, JsValue> {
    match Arg::read(value, what)? {
        Arg::Text(text) | Arg::Json(text) => Ok(text),
        Arg::Missing => Err(rules_error(&ApiError::new(format!("{what} is missing")))),
    }
}
