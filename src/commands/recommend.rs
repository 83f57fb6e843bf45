//! `challenge recommend TEMPLATE.chal (--profiles P.jsonl | --workouts W.jsonl --as-of TIME
//! [--lookback-days N]) [--users U.jsonl] [--user ID] [--set NAME=VALUE]... [--format dsl|json]
//! [--explain]`: the personal challenge of every eligible user (language.md §5).
//!
//! Users are those of `--users` and of the profiles (or workouts); the eligible ones are in one
//! of the template's groups (everyone when it has none). A user with no profile line gets an
//! empty profile (so the `else` fallbacks). Output is sorted by user id: canonical DSL separated
//! by blank lines, or JSON Lines of the tree; `--explain` adds each param's value, expression and
//! the profile figures it used (`//` comments above the DSL; `{"challenge", "explain"}` in
//! JSON). A user whose param stays undefined is reported on stderr and the exit code is 1; the
//! others are still printed. Every template of the file is recommended, in file order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rules_core::eval::AsOf;
use rules_core::profile::{self, Profile};
use rules_core::records::{self, User};
use rules_core::template::{self, Binding, Recommender, Source, TemplateError};
use rules_core::tree::{DeclKind, Quantity};
use rules_core::Challenge;
use rules_front::recommend::{explain, Explained, WithExplain};
use rules_front::{RecordReport, Records};

use crate::cli::{RecommendArgs, RecommendFormat, RecordArgs};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &RecommendArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let source = input::source(&args.template, &catalog)?;
    output::print_diagnostics(&source);
    if source.has_errors() {
        return Err(Failure::Input);
    }
    let templates: Vec<&Challenge> = source
        .checked
        .decls
        .iter()
        .filter(|d| d.kind == DeclKind::Template)
        .collect();
    if templates.is_empty() {
        return Err(Failure::Usage(format!(
            "`{}` holds no template (`template \"id\" {{ ... }}`)",
            source.name()
        )));
    }
    let overrides = overrides(&args.set, &templates)?;
    let recommenders = templates
        .iter()
        .map(|t| {
            let own: BTreeMap<String, Quantity> = overrides
                .iter()
                .filter(|(name, _)| t.params.iter().any(|p| &p.name.node == *name))
                .map(|(n, q)| (n.clone(), q.clone()))
                .collect();
            Recommender::new(t, &catalog, own).map_err(usage)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let people = People::load(args)?;
    let mut out = String::new();
    let mut failed = false;
    for recommender in &recommenders {
        let profiles: Vec<Profile> = people.profiles_for(recommender, &catalog);
        if let (Some(only), true) = (&args.user, profiles.is_empty()) {
            eprintln!(
                "warning: user `{only}` is not in the groups of template `{}`",
                recommender.template().id
            );
        }
        for result in recommender.recommend_all(&profiles) {
            match result {
                Ok(rec) => {
                    for w in &rec.warnings {
                        eprintln!("warning: {}: {w}", rec.challenge.id);
                    }
                    write(&mut out, &rec.challenge, &rec.bindings, recommender, args)?;
                }
                Err(e) => {
                    eprintln!("error: template `{}`: {e}", recommender.template().id);
                    failed = true;
                }
            }
        }
    }
    output::stdout(&out)?;
    if args.strict && people.rejected > 0 {
        eprintln!("error: {} record(s) rejected (--strict)", people.rejected);
        failed = true;
    }
    if failed {
        Err(Failure::Input)
    } else {
        Ok(())
    }
}

fn usage(e: TemplateError) -> Failure {
    match e {
        TemplateError::Check { .. } => {
            eprintln!("error: {e}");
            Failure::Input
        }
        other => Failure::Usage(format!("--set: {other}")),
    }
}

/// `--set NAME=VALUE`, each naming a param of some template of the file.
fn overrides(
    set: &[String],
    templates: &[&Challenge],
) -> Result<BTreeMap<String, Quantity>, Failure> {
    let mut out = BTreeMap::new();
    for text in set {
        let (name, value) = template::parse_override(text).map_err(usage)?;
        if !templates
            .iter()
            .any(|t| t.params.iter().any(|p| p.name.node == name))
        {
            let first = templates.first().copied();
            return Err(usage(TemplateError::UnknownParam {
                template: first.map(|t| t.id.node.clone()).unwrap_or_default(),
                name,
                known: first
                    .map(|t| t.params.iter().map(|p| p.name.node.clone()).collect())
                    .unwrap_or_default(),
            }));
        }
        out.insert(name, value);
    }
    Ok(out)
}

/// The users and their profiles (read from `--profiles`, or made from `--workouts`).
struct People {
    /// The users considered, by id (record, or a user in no group).
    users: Vec<User>,
    /// Profiles by user (from the file, or computed for every user).
    profiles: BTreeMap<String, Profile>,
    /// The time an empty profile is as of.
    as_of: AsOf,
    lookback_days: u32,
    rejected: usize,
    from_workouts: Option<Records>,
}

impl People {
    fn load(args: &RecommendArgs) -> Result<People, Failure> {
        match (&args.profiles, &args.workouts) {
            (Some(path), _) => Self::from_profiles(path, args),
            (None, Some(workouts)) => {
                let Some(as_of) = args.as_of.as_deref() else {
                    return Err(Failure::Usage(
                        "--workouts needs --as-of: the time the profiles are made at".into(),
                    ));
                };
                let as_of = input::time(as_of, "--as-of")?;
                let records = input::records(&RecordArgs {
                    workouts: workouts.clone(),
                    users: args.users.clone(),
                    strict: args.strict,
                })?;
                Ok(People {
                    users: input::users_to_evaluate(&records, args.user.as_deref()),
                    profiles: BTreeMap::new(),
                    as_of,
                    lookback_days: args.lookback_days.unwrap_or(profile::DEFAULT_LOOKBACK_DAYS),
                    rejected: records.rejected(),
                    from_workouts: Some(records),
                })
            }
            (None, None) => Err(Failure::Usage(
                "give --profiles P.jsonl, or --workouts W.jsonl with --as-of".into(),
            )),
        }
    }

    fn from_profiles(path: &Path, args: &RecommendArgs) -> Result<People, Failure> {
        let text = input::read_text(path)?;
        let report = profile::read_profiles(&text);
        input::report_records(path, "profile", &RecordReport::of(&report));
        let mut rejected = report.rejected.len();
        let profiles = profile::upsert_profiles(report.into_records());
        let records = match &args.users {
            None => Vec::new(),
            Some(users) => {
                let text = input::read_text(users)?;
                let report = records::read_users(&text);
                input::report_records(users, "user", &RecordReport::of(&report));
                rejected += report.rejected.len();
                records::upsert_users(report.into_records())
            }
        };
        let mut ids: BTreeSet<&str> = records.iter().map(|u| u.id.as_str()).collect();
        ids.extend(profiles.iter().map(|p| p.user.as_str()));
        if let Some(only) = args.user.as_deref() {
            if !ids.contains(only) {
                eprintln!("warning: user `{only}` has no record and no profile");
            }
            ids = BTreeSet::from([only]);
        }
        let users = ids
            .into_iter()
            .map(|id| {
                records
                    .iter()
                    .find(|u| u.id == id)
                    .cloned()
                    .unwrap_or_else(|| User::unknown(id))
            })
            .collect();
        let as_of = profiles
            .first()
            .map(|p| p.as_of.clone())
            .or_else(|| AsOf::parse("1970-01-01T00:00:00Z"))
            .ok_or_else(|| Failure::Usage("cannot make an empty profile".into()))?;
        Ok(People {
            users,
            profiles: profiles.into_iter().map(|p| (p.user.clone(), p)).collect(),
            as_of,
            lookback_days: profile::DEFAULT_LOOKBACK_DAYS,
            rejected,
            from_workouts: None,
        })
    }

    /// The profiles of the users eligible for a template.
    fn profiles_for(
        &self,
        recommender: &Recommender<'_>,
        catalog: &rules_core::Catalog,
    ) -> Vec<Profile> {
        let eligible: Vec<User> = self
            .users
            .iter()
            .filter(|u| recommender.is_eligible(u))
            .cloned()
            .collect();
        match &self.from_workouts {
            Some(records) => profile::profiles_all(
                &eligible,
                &records.workouts,
                catalog,
                &self.as_of,
                self.lookback_days,
            ),
            None => eligible
                .iter()
                .map(|u| {
                    self.profiles.get(&u.id).cloned().unwrap_or_else(|| {
                        Profile::empty(&u.id, u.body_weight_kg, &self.as_of, self.lookback_days)
                    })
                })
                .collect(),
        }
    }
}

/// Appends one user's challenge in the chosen format.
fn write(
    out: &mut String,
    challenge: &Challenge,
    bindings: &[Binding],
    recommender: &Recommender<'_>,
    args: &RecommendArgs,
) -> Result<(), Failure> {
    match args.format {
        RecommendFormat::Json => {
            let line = if args.explain {
                let wrapped = WithExplain {
                    challenge,
                    explain: explain(bindings, recommender.template()),
                };
                output::to_json(&wrapped, false)?
            } else {
                output::to_json(challenge, false)?
            };
            out.push_str(&line);
            out.push('\n');
        }
        RecommendFormat::Dsl => {
            if !out.is_empty() {
                out.push('\n');
            }
            if args.explain {
                for e in explain(bindings, recommender.template()) {
                    out.push_str(&comment(&e));
                }
            }
            out.push_str(&rules_dsl::print(challenge));
        }
    }
    Ok(())
}

/// `// name = value from EXPR` and one line per figure used.
fn comment(e: &Explained<'_>) -> String {
    let value = e
        .value
        .map_or_else(|| "undefined".to_owned(), ToString::to_string);
    let from = match e.from {
        Source::Override => "set by --set".to_owned(),
        Source::Expression => format!("from {}", e.expression),
        Source::Fallback => format!(
            "from else {} ({} is undefined)",
            e.fallback.as_deref().unwrap_or_default(),
            e.expression
        ),
        Source::Undefined => "undefined".to_owned(),
    };
    let mut s = format!("// {} = {value} {from}\n", e.param);
    for f in e.figures {
        let value = f.value.as_ref().map_or_else(
            || "no data".to_owned(),
            |q| Quantity::new(template::tidy(q.value), q.unit.as_deref()).to_string(),
        );
        s.push_str(&format!("//     {} = {value}\n", f.figure));
    }
    s
}
